/**
 * What every SubscriptionStore must do, as one suite of assertions run against each store
 * (test/integration/subscriptions/subscriptionStore.contract.test.ts): the Cosmos DB store on the embedded server
 * and the in-memory store the handler tests use, so the one cannot drift from the other. Each test makes its own
 * tenants, teams and ids, so the suite can share a container with anything else; the queries that span every
 * tenant are read for what the test made.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { NotFoundError, PreconditionFailedError, StoreRejectedError } from "../../shared/errors.js";
import { utcNow } from "../../shared/operations/timestamps.js";
import type { SubscriptionCreator, SubscriptionDocument } from "../../shared/subscriptions/model.js";
import type { SubscriptionStore } from "../../shared/store/subscriptions.js";

/** A canonical UTC time this many minutes from now (negative: in the past), as stored expirations are written. */
const inMinutes = (minutes: number) => utcNow(new Date(Date.now() + minutes * 60_000));

const APPLICATION: SubscriptionCreator = { kind: "application", id: "contract-app" };

/** A subscription as the service stores one, in a tenant and team of its own unless told otherwise. */
export function subscriptionDocument(overrides: Partial<SubscriptionDocument> = {}): SubscriptionDocument {
  const tenantId = overrides.tenantId ?? randomUUID();
  const teamId = overrides.teamId ?? randomUUID();
  return {
    id: randomUUID(),
    resourceKey: `${tenantId}:${teamId}`,
    tenantId,
    teamId,
    operationId: null,
    resource: `teams/${teamId}/operations`,
    teamPath: "teams",
    changeTypes: ["created", "updated"],
    notificationUrl: "https://receiver.example.com/notify",
    lifecycleNotificationUrl: null,
    clientState: "secret",
    expirationDateTime: inMinutes(60),
    createdDateTime: inMinutes(0),
    creator: APPLICATION,
    applicationId: null,
    latestSupportedTlsVersion: "v1_2",
    ttl: 3600,
    ...overrides,
  };
}

const ids = (found: ReadonlyArray<{ readonly id: string }>) => found.map((d) => d.id);

export function subscriptionStoreContract(name: string, store: () => SubscriptionStore): void {
  describe(`${name}: a subscription store`, () => {
    it("stores a subscription as given, found by tenant and id and read by partition and id, with its ETag", async () => {
      const document = subscriptionDocument({ clientState: null, lifecycleNotificationUrl: "https://x.example/l" });
      const created = await store().create(document);
      expect(created.document).toEqual(document);
      expect(created.etag).toMatch(/^\S+$/);
      expect(await store().find(document.tenantId, document.id)).toEqual(created);
      expect(await store().read(document.resourceKey, document.id)).toEqual(created);
    });

    it("finds nothing for another tenant, another partition or an unknown id", async () => {
      const document = subscriptionDocument();
      await store().create(document);
      expect(await store().find(randomUUID(), document.id)).toBeUndefined();
      expect(await store().find(document.tenantId, randomUUID())).toBeUndefined();
      expect(await store().read(`${document.tenantId}:${randomUUID()}`, document.id)).toBeUndefined();
      expect(await store().read(document.resourceKey, randomUUID())).toBeUndefined();
    });

    it("gives copies: changing what it returned changes nothing stored", async () => {
      const document = subscriptionDocument();
      const created = await store().create(document);
      created.document.notificationUrl = "https://elsewhere.example/";
      document.clientState = "changed after the create";
      expect((await store().find(document.tenantId, document.id))?.document).toMatchObject({
        notificationUrl: "https://receiver.example.com/notify",
        clientState: "secret",
      });
    });

    it("refuses a second subscription with an id taken in its partition", async () => {
      const document = subscriptionDocument();
      await store().create(document);
      await expect(store().create({ ...document, clientState: "another" })).rejects.toBeInstanceOf(StoreRejectedError);
      expect((await store().find(document.tenantId, document.id))?.document.clientState).toBe("secret");
    });

    it("replaces only the version read, with a new ETag on every write", async () => {
      const document = subscriptionDocument();
      const created = await store().create(document);
      const later = inMinutes(90);
      const renewed = await store().replace({ ...document, expirationDateTime: later }, created.etag);
      expect(renewed.etag).not.toBe(created.etag);
      expect(renewed.document).toEqual({ ...document, expirationDateTime: later });
      const again = await store().replace(renewed.document, renewed.etag);
      expect(again.etag).not.toBe(renewed.etag);
      expect(await store().find(document.tenantId, document.id)).toEqual(again);

      const stale = store().replace({ ...document, clientState: "lost" }, created.etag);
      await expect(stale).rejects.toBeInstanceOf(PreconditionFailedError);
      expect((await store().find(document.tenantId, document.id))?.etag).toBe(again.etag);
    });

    it("refuses to replace a subscription that is not stored with a NotFoundError", async () => {
      const document = subscriptionDocument();
      const { etag } = await store().create(document);
      await store().delete(document);
      const gone = store().replace(document, etag);
      await expect(gone).rejects.toBeInstanceOf(NotFoundError);
      await expect(gone).rejects.toThrow("The subscription does not exist.");
    });

    it("deletes a subscription once: true, then false", async () => {
      const document = subscriptionDocument();
      await store().create(document);
      expect(await store().delete(document)).toBe(true);
      expect(await store().find(document.tenantId, document.id)).toBeUndefined();
      expect(await store().read(document.resourceKey, document.id)).toBeUndefined();
      expect(await store().delete(document)).toBe(false);
    });

    it("treats an expired subscription as gone, and a delegated one without a lifecycle URL as expired an hour after its last renewal", async () => {
      const tenantId = randomUUID();
      const teamId = randomUUID();
      const user: SubscriptionCreator = { kind: "user", id: randomUUID() };
      const expired = subscriptionDocument({ tenantId, teamId, creator: user, expirationDateTime: inMinutes(-1) });
      const pastItsHour = subscriptionDocument({
        tenantId,
        teamId,
        creator: user,
        createdDateTime: inMinutes(-120),
        renewedDateTime: inMinutes(-61),
        expirationDateTime: inMinutes(600),
      });
      const renewedWithinTheHour = { ...pastItsHour, id: randomUUID(), renewedDateTime: inMinutes(-30) };
      for (const d of [expired, pastItsHour, renewedWithinTheHour]) await store().create(d);
      for (const d of [expired, pastItsHour]) {
        expect(await store().find(tenantId, d.id)).toBeUndefined();
        expect(await store().read(d.resourceKey, d.id)).toBeUndefined();
      }
      expect(ids(await store().forResourceKey(`${tenantId}:${teamId}`))).toEqual([renewedWithinTheHour.id]);
      expect(ids(await store().listByCreator(tenantId, user))).toEqual([renewedWithinTheHour.id]);
    });

    it("lists a creator's live subscriptions in a tenant, oldest first, and no one else's", async () => {
      const tenantId = randomUUID();
      const user: SubscriptionCreator = { kind: "user", id: randomUUID() };
      const mine = [3, 1, 2].map((minutesAgo) =>
        subscriptionDocument({ tenantId, creator: user, createdDateTime: inMinutes(-minutesAgo) }),
      );
      const others = [
        subscriptionDocument({ tenantId, creator: { kind: "user", id: randomUUID() } }),
        subscriptionDocument({ tenantId, creator: { kind: "application", id: user.id } }),
        subscriptionDocument({ tenantId: randomUUID(), creator: user }),
      ];
      for (const d of [...mine, ...others]) await store().create(d);
      const listed = await store().listByCreator(tenantId, user);
      expect(ids(listed)).toEqual([mine[0]!.id, mine[2]!.id, mine[1]!.id]);
      expect(listed[0]).toEqual(mine[0]);
      expect(await store().listByCreator(randomUUID(), user)).toEqual([]);
    });

    it("finds the live subscriptions of one team of one tenant, for delivery", async () => {
      const tenantId = randomUUID();
      const teamId = randomUUID();
      const team = [subscriptionDocument({ tenantId, teamId }), subscriptionDocument({ tenantId, teamId })];
      const elsewhere = [
        subscriptionDocument({ tenantId }),
        subscriptionDocument({ teamId }),
        subscriptionDocument({ tenantId, teamId, expirationDateTime: inMinutes(-5) }),
      ];
      for (const d of [...team, ...elsewhere]) await store().create(d);
      expect(ids(await store().forResourceKey(`${tenantId}:${teamId}`)).sort()).toEqual(ids(team).sort());
      expect(await store().forResourceKey(`${tenantId}:${randomUUID()}`)).toEqual([]);
    });

    it("counts a tenant without a quota document by its live subscriptions", async () => {
      const tenantId = randomUUID();
      const live = subscriptionDocument({ tenantId });
      await store().create(live);
      await store().create(subscriptionDocument({ tenantId, expirationDateTime: inMinutes(-1) }));
      await store().create(subscriptionDocument());
      expect(await store().readSlots(tenantId)).toEqual({
        slots: [{ id: live.id, expirationDateTime: live.expirationDateTime }],
        etag: undefined,
      });
      expect(await store().readSlots(randomUUID())).toEqual({ slots: [], etag: undefined });
    });

    it("writes a tenant's quota document only over the version read: created once, then replaced by ETag", async () => {
      const tenantId = randomUUID();
      const first = [{ id: randomUUID(), expirationDateTime: inMinutes(30) }];
      expect(await store().writeSlots(tenantId, first, undefined)).toBe(true);
      // A second writer that also read no document: the create is refused.
      expect(await store().writeSlots(tenantId, [], undefined)).toBe(false);
      const read = await store().readSlots(tenantId);
      expect(read.slots).toEqual(first);
      expect(read.etag).toMatch(/^\S+$/);

      const second = [...first, { id: randomUUID(), expirationDateTime: inMinutes(45) }];
      expect(await store().writeSlots(tenantId, second, read.etag)).toBe(true);
      expect(await store().writeSlots(tenantId, [], read.etag)).toBe(false);
      const after = await store().readSlots(tenantId);
      expect(after.slots).toEqual(second);
      expect(after.etag).not.toBe(read.etag);
      // The quota document is no subscription: no query for subscriptions finds it.
      expect(await store().find(tenantId, "tenantQuota")).toBeUndefined();
      expect(await store().ofTenantsOtherThan([])).not.toContainEqual(
        expect.objectContaining({ document: expect.objectContaining({ resourceKey: tenantId }) }),
      );
    });

    it("keeps the quota document apart from the subscriptions it counts", async () => {
      const tenantId = randomUUID();
      const subscription = subscriptionDocument({ tenantId });
      await store().create(subscription);
      expect(await store().writeSlots(tenantId, [], undefined)).toBe(true);
      // Once the tenant has a quota document, it is what counts, not the subscriptions.
      expect((await store().readSlots(tenantId)).slots).toEqual([]);
      expect(ids(await store().forResourceKey(subscription.resourceKey))).toEqual([subscription.id]);
    });

    it("finds, across tenants, the live subscriptions with a lifecycle URL that expire by a time", async () => {
      const tenantId = randomUUID();
      const url = "https://receiver.example.com/lifecycle";
      const soon = subscriptionDocument({ tenantId, lifecycleNotificationUrl: url, expirationDateTime: inMinutes(20) });
      const elsewhere = subscriptionDocument({ lifecycleNotificationUrl: url, expirationDateTime: inMinutes(40) });
      const later = subscriptionDocument({
        tenantId,
        lifecycleNotificationUrl: url,
        expirationDateTime: inMinutes(90),
      });
      const noUrl = subscriptionDocument({ tenantId, expirationDateTime: inMinutes(20) });
      const expired = subscriptionDocument({
        tenantId,
        lifecycleNotificationUrl: url,
        expirationDateTime: inMinutes(-1),
      });
      const made = [soon, elsewhere, later, noUrl, expired];
      for (const d of made) await store().create(d);
      const found = (await store().expiringBy(inMinutes(60))).filter((s) => ids(made).includes(s.document.id));
      expect(ids(found.map((s) => s.document)).sort()).toEqual([soon.id, elsewhere.id].sort());
      const stored = await store().find(tenantId, soon.id);
      expect(found.find((s) => s.document.id === soon.id)).toEqual(stored);
    });

    it("finds, across tenants, the live subscriptions of tenants other than those named", async () => {
      const kept = randomUUID();
      const dropped = randomUUID();
      const mine = subscriptionDocument({ tenantId: kept });
      const theirs = subscriptionDocument({ tenantId: dropped });
      const theirsExpired = subscriptionDocument({ tenantId: dropped, expirationDateTime: inMinutes(-1) });
      const made = [mine, theirs, theirsExpired];
      for (const d of made) await store().create(d);
      const found = (await store().ofTenantsOtherThan([kept])).filter((s) => ids(made).includes(s.document.id));
      expect(found).toEqual([await store().find(dropped, theirs.id)]);
      const none = (await store().ofTenantsOtherThan([kept, dropped])).filter((s) => ids(made).includes(s.document.id));
      expect(none).toEqual([]);
    });
  });
}
