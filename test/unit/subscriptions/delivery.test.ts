import { describe, expect, it } from "vitest";
import { batchesFor, changesOf, operationResource } from "../../../shared/subscriptions/delivery.js";
import type { SubscriptionDocument } from "../../../shared/subscriptions/model.js";
import type { SubscriptionStore } from "../../../shared/store/subscriptions.js";

const TENANT = "d0d0d0d0-0000-4000-8000-000000000001";
const TEAM = "3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f";
const NOW = Date.parse("2026-06-01T00:00:00Z");

const operation = (id: string, changes: Record<string, unknown> = {}) => ({
  id: `${TENANT}:${id}`,
  tenantId: TENANT,
  teamId: TEAM,
  operationId: id,
  createdDateTime: "2026-05-31T10:00:00.0000000Z",
  lastActionDateTime: "2026-05-31T10:00:00.0000000Z",
  status: "notStarted",
  revision: 1,
  _etag: `"${id}-1"`,
  ...changes,
});

const tombstone = (id: string, changes: Record<string, unknown> = {}) => ({
  id: `${TENANT}:${id}`,
  tenantId: TENANT,
  teamId: TEAM,
  operationId: id,
  tombstone: true,
  deletedDateTime: "2026-05-31T12:00:00.0000000Z",
  ttl: 86_400,
  _etag: `"${id}-gone"`,
  ...changes,
});

function subscription(id: string, changes: Partial<SubscriptionDocument> = {}): SubscriptionDocument {
  return {
    id,
    resourceKey: `${TENANT}:${TEAM}`,
    tenantId: TENANT,
    teamId: TEAM,
    operationId: null,
    resource: `teams/${TEAM}/operations`,
    teamPath: "teams",
    changeTypes: ["created", "updated"],
    notificationUrl: "https://hooks.contoso.com/a",
    lifecycleNotificationUrl: null,
    clientState: `state-${id}`,
    expirationDateTime: "2026-06-02T00:00:00.0000000Z",
    createdDateTime: "2026-05-31T00:00:00.0000000Z",
    creator: { kind: "application", id: "app" },
    applicationId: null,
    latestSupportedTlsVersion: "v1_2",
    ttl: 1,
    ...changes,
  };
}

/** A store of fixed subscriptions, for the pure matching and batching. */
function storeOf(subscriptions: SubscriptionDocument[]): SubscriptionStore {
  return {
    forResourceKey: (key) => Promise.resolve(subscriptions.filter((s) => s.resourceKey === key)),
  } as SubscriptionStore;
}

describe("change types from the change feed", () => {
  it("revision 1 is created, any later revision updated, whatever the client's lastActionDateTime says", () => {
    const changes = changesOf([
      operation("a", { lastActionDateTime: "2099-01-01T00:00:00.0000000Z" }),
      operation("b", { revision: 2, lastActionDateTime: "2016-12-31T20:56:44.8542569Z" }),
      operation("c", { revision: 2 }),
      { not: "an operation" },
    ]);
    expect(changes.map((c) => [c.document.operationId, c.changeType])).toEqual([
      ["a", "created"],
      ["b", "updated"],
      ["c", "updated"],
    ]);
  });

  it("a document written before revisions existed is created only if the store wrote it in its creation second", () => {
    const createdSecond = Date.parse("2026-05-31T10:00:00Z") / 1000;
    const changes = changesOf([
      operation("a", { revision: undefined, _ts: createdSecond }),
      operation("b", { revision: undefined, _ts: createdSecond + 1 }),
    ]);
    expect(changes.map((c) => [c.document.operationId, c.changeType])).toEqual([
      ["a", "created"],
      ["b", "updated"],
    ]);
  });

  it("a tombstone, what a delete leaves in the operation's place, is deleted", () => {
    const changes = changesOf([
      tombstone("c"),
      tombstone("d", { repeatability: { requestId: "r", fingerprint: "f" } }),
    ]);
    expect(changes.map((c) => [c.document.operationId, c.changeType])).toEqual([
      ["c", "deleted"],
      ["d", "deleted"],
    ]);
  });
});

describe("batches", () => {
  it("group notifications per URL, only for matching, live subscriptions, with stable ids", async () => {
    const store = storeOf([
      subscription("s1"),
      subscription("s2", { notificationUrl: "https://hooks.contoso.com/b", changeTypes: ["updated"] }),
      subscription("s3", { operationId: "other" }),
      subscription("s4", { expirationDateTime: "2026-05-31T23:59:59.0000000Z" }),
      subscription("s5", { notificationUrl: "https://hooks.contoso.com/a", clientState: null }),
      subscription("s6", { notificationUrl: "https://hooks.contoso.com/c", changeTypes: ["deleted"] }),
    ]);
    const docs = [operation("a"), operation("b", { revision: 2 }), tombstone("c")];
    const batches = await batchesFor(docs, store, NOW);
    const summary = batches.map((b) => ({
      url: b.notificationUrl,
      items: b.notifications.map((n) => `${n.subscriptionId}:${n.resourceData.id}:${n.changeType}`),
    }));
    expect(summary).toEqual([
      { url: "https://hooks.contoso.com/a", items: ["s1:a:created", "s5:a:created", "s1:b:updated", "s5:b:updated"] },
      { url: "https://hooks.contoso.com/b", items: ["s2:b:updated"] },
      { url: "https://hooks.contoso.com/c", items: ["s6:c:deleted"] },
    ]);
    const again = await batchesFor(docs, store, NOW);
    expect(again[0]!.notifications.map((n) => n.id)).toEqual(batches[0]!.notifications.map((n) => n.id));
  });

  it("give a change the same id whatever the store's version of it (a restored store gives new ones), another change another", async () => {
    const store = storeOf([subscription("s1", { changeTypes: ["created", "updated", "deleted"] })]);
    const idOf = async (doc: Record<string, unknown>) => (await batchesFor([doc], store, NOW))[0]!.notifications[0]!.id;
    const created = await idOf(operation("a"));
    expect(await idOf(operation("a", { _etag: '"restored"', _ts: 1_800_000_000 }))).toBe(created);
    expect(await idOf(operation("a", { revision: 2 }))).not.toBe(created);
    // Deleted and created again under its id: revision 1 again, at another time.
    expect(await idOf(operation("a", { createdDateTime: "2026-05-31T11:00:00.0000000Z" }))).not.toBe(created);
    const deleted = await idOf(tombstone("a"));
    expect(await idOf(tombstone("a", { _etag: '"restored"' }))).toBe(deleted);
    expect(await idOf(tombstone("a", { deletedDateTime: "2026-05-31T13:00:00.0000000Z" }))).not.toBe(deleted);
    // Another subscription to the same change: another id.
    const two = storeOf([subscription("s1"), subscription("s2", { notificationUrl: "https://hooks.contoso.com/b" })]);
    const [first, second] = await batchesFor([operation("a")], two, NOW);
    expect(first!.notifications[0]!.id).not.toBe(second!.notifications[0]!.id);
  });

  it("leave out the subscriptions of tenants no longer accepted", async () => {
    const store = storeOf([subscription("s1")]);
    expect(await batchesFor([operation("a")], store, NOW, [TENANT])).toHaveLength(1);
    expect(await batchesFor([operation("a")], store, NOW, ["e1e1e1e1-0000-4000-8000-000000000002"])).toEqual([]);
  });

  it("name the resource in the key syntax this API serves, quotes doubled", () => {
    expect(operationResource(TEAM, "it's")).toBe(`teams('${TEAM}')/operations('it''s')`);
  });
});
