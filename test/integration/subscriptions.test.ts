/**
 * Change-notification subscriptions through the local runner, over real
 * HTTP, with loopback receivers (SUBSCRIPTION_ALLOW_LOOPBACK, the local-only
 * setting), the embedded Cosmos DB server and its change-feed emulation, and
 * Azurite for the delivery queue: the handshake, notifications per change
 * type, renewal, deletion, expiry, retries, a hanging receiver, limits and
 * the identity rules.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, detailTargets, expectGraphError, OTHER_TEAM, OTHER_TENANT } from "../support/http.js";
import { waitFor, type Receiver } from "../support/receiver.js";
import { inMinutes, receiverPool, subscriptionCalls } from "../support/subscriptionCalls.js";
import { startQueuedStack, type QueuedStack } from "../support/stack.js";

const LIMIT = 40;
const LIMITED_TENANT = "e3e3e3e3-0000-4000-8000-000000000003";
const CONTENDED_TENANT = "e4e4e4e4-0000-4000-8000-000000000004";

let stack: QueuedStack;
let app: string;
const receivers = receiverPool();

const url = (path: string) => `${stack.baseUrl}${path}`;

const receiver = () => receivers.start();
const { subscribe, subscribed } = subscriptionCalls(
  () => stack.baseUrl,
  () => app,
);

async function createOperation(team: string, id: string = randomUUID(), token = app) {
  const response = await call(url(`/teams/${team}/operations`), {
    method: "POST",
    token,
    body: { id, operationType: "cloneTeam" },
  });
  expect(response.status, response.text).toBe(201);
  return id;
}

async function setStatus(team: string, id: string, status: string) {
  const response = await call(url(`/teams/${team}/operations/${id}`), {
    method: "PATCH",
    token: app,
    body: { status },
  });
  expect(response.status, response.text).toBe(200);
}

const about = (r: Receiver, operationId: string, changeType?: string) =>
  r.acknowledged.filter((n) => n.resourceData.id === operationId && (!changeType || n.changeType === changeType));

beforeAll(async () => {
  stack = await startQueuedStack({
    AzureFunctionsJobHost__extensions__queues__visibilityTimeout: "00:00:00",
    SUBSCRIPTION_VALIDATION_TIMEOUT_SECONDS: "2",
    SUBSCRIPTION_DELIVERY_TIMEOUT_SECONDS: "2",
    SUBSCRIPTION_RETRY_SCHEDULE_SECONDS: "1,1,1",
    SUBSCRIPTIONS_PER_TENANT: String(LIMIT),
  });
  app = await stack.token({ app: true });
});
afterAll(async () => {
  await stack?.stop();
  await receivers.close();
});

describe("creating a subscription", () => {
  it("runs the handshake and answers 201 with Graph's subscription", async () => {
    const team = randomUUID();
    const r = await receiver();
    const expirationDateTime = inMinutes(60);
    const response = await subscribe({
      changeType: "created,updated",
      notificationUrl: r.url,
      resource: `teams/${team}/operations`,
      expirationDateTime,
      clientState: "secret-1",
    });
    expect(response.status, response.text).toBe(201);
    expect(r.validations).toHaveLength(1);
    const body = response.json;
    expect(body).toMatchObject({
      "@odata.context": expect.stringMatching(/\/v1\.0\/\$metadata#subscriptions\/\$entity$/),
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      resource: `teams/${team}/operations`,
      changeType: "created,updated",
      clientState: "secret-1",
      notificationUrl: r.url,
      lifecycleNotificationUrl: null,
      includeResourceData: false,
    });
    expect(Date.parse(body.expirationDateTime)).toBe(Date.parse(expirationDateTime));
    expect(response.headers.get("location")).toMatch(new RegExp(`/v1\\.0/subscriptions/${body.id}$`));
    const read = await call(url(`/subscriptions/${body.id}`), { token: app });
    expect(read.status).toBe(200);
    expect(read.json.id).toBe(body.id);
    const list = await call(url("/subscriptions"), { token: app });
    expect(list.json.value.map((s: { id: string }) => s.id)).toContain(body.id);
  });

  it("refuses an endpoint that answers the wrong token, or not in time, saying why", async () => {
    const r = await receiver();
    const body = { changeType: "created", notificationUrl: r.url, resource: `teams/${randomUUID()}/operations` };
    r.validation = "wrong";
    let error = expectGraphError(await subscribe({ ...body, expirationDateTime: inMinutes(5) }), 400, "invalidRequest");
    expect(error.target).toBe("notificationUrl");
    expect(error.message).toContain("not the validation token");
    r.validation = "hang";
    error = expectGraphError(await subscribe({ ...body, expirationDateTime: inMinutes(5) }), 400, "invalidRequest");
    expect(error.message).toContain("no answer within 2 s");
    r.validation = "echo";
    const lifecycle = await receiver();
    lifecycle.validation = "wrong";
    error = expectGraphError(
      await subscribe({ ...body, lifecycleNotificationUrl: lifecycle.url, expirationDateTime: inMinutes(5) }),
      400,
      "invalidRequest",
    );
    expect(error.target).toBe("lifecycleNotificationUrl");
  });

  it("names each offending property", async () => {
    const r = await receiver();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ changeType: "moved" }, "changeType"],
      [{ changeType: "created,created" }, "changeType"],
      [{ resource: "users/x/messages" }, "resource"],
      [{ resource: "teams/not-a-guid/operations" }, "resource"],
      [{ expirationDateTime: inMinutes(-1) }, "expirationDateTime"],
      [{ expirationDateTime: inMinutes(4231) }, "expirationDateTime"],
      [{ expirationDateTime: "tomorrow" }, "expirationDateTime"],
      [{ clientState: "x".repeat(129) }, "clientState"],
      [{ notificationUrl: "http://[2001:4860:4860::8888]/" }, "notificationUrl"],
      [{ notificationUrl: "https://10.0.0.1/hook" }, "notificationUrl"],
      [{ includeResourceData: true }, "encryptionCertificate"],
      [{ encryptionCertificate: 42 }, "encryptionCertificate"],
      [{ id: randomUUID() }, "id"],
      [{ color: "blue" }, "color"],
    ];
    const base = {
      changeType: "created",
      notificationUrl: r.url,
      resource: `teams/${randomUUID()}/operations`,
      expirationDateTime: inMinutes(30),
    };
    for (const [change, target] of cases) {
      const error = expectGraphError(await subscribe({ ...base, ...change }), 400, "invalidRequest");
      expect(detailTargets(error).concat(error.target ?? []), JSON.stringify(change)).toContain(target);
    }
    const max = expectGraphError(
      await subscribe({ ...base, expirationDateTime: inMinutes(5000) }),
      400,
      "invalidRequest",
    );
    expect(max.details[0].message).toContain("4230 minutes");
    // A refused address is refused before any request: the receiver saw no handshake for those.
    expect(r.validations).toHaveLength(0);
  });

  it("takes Graph's properties of features it does not offer as not used (null), and refuses a use of one by name", async () => {
    const r = await receiver();
    const base = {
      changeType: "created",
      notificationUrl: r.url,
      resource: `teams/${randomUUID()}/operations`,
      expirationDateTime: inMinutes(30),
    };
    const unused = {
      includeResourceData: false,
      encryptionCertificate: null,
      encryptionCertificateId: null,
      notificationQueryOptions: null,
      notificationUrlAppId: null,
    };
    const created = await subscribe({ ...base, ...unused });
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject(unused);
    // Resource data is offered (richNotifications.test.ts); query options and another app's tokens are not.
    const uses: Array<[string, unknown]> = [
      ["notificationQueryOptions", "$filter=status eq 'failed'"],
      ["notificationUrlAppId", randomUUID()],
    ];
    for (const [name, value] of uses) {
      const error = expectGraphError(await subscribe({ ...base, [name]: value }), 400, "notSupported");
      expect(error.target).toBe(name);
      expect(error.details).toEqual([{ code: "notSupported", target: name, message: expect.any(String) }]);
    }
  });

  it("refuses other teams and other tenants' subscriptions", async () => {
    const r = await receiver();
    const member = await stack.token({ groups: [OTHER_TEAM], scopes: "TeamsAsyncOperation.Read" });
    const team = randomUUID();
    const body = { changeType: "created", notificationUrl: r.url, expirationDateTime: inMinutes(30) };
    expectGraphError(await subscribe({ ...body, resource: `teams/${team}/operations` }, member), 403, "accessDenied");
    expectGraphError(
      await subscribe({ ...body, resource: `me/joinedTeams/${team}/operations` }, member),
      403,
      "accessDenied",
    );
    const mine = await subscribed({ ...body, resource: `me/joinedTeams/${OTHER_TEAM}/operations` }, member);
    expect(mine.resource).toBe(`me/joinedTeams/${OTHER_TEAM}/operations`);
    const noPermission = await stack.token({ app: true, roles: "Something.Else" });
    expectGraphError(
      await subscribe({ ...body, resource: `teams/${team}/operations` }, noPermission),
      403,
      "accessDenied",
    );

    // Another tenant, and another creator in the same tenant, see nothing of it.
    const otherTenant = await stack.token({ app: true, tenant: OTHER_TENANT });
    const another = await stack.token({ groups: [OTHER_TEAM], scopes: "TeamsAsyncOperation.Read", user: randomUUID() });
    for (const token of [otherTenant, another]) {
      expectGraphError(await call(url(`/subscriptions/${mine.id}`), { token }), 404, "itemNotFound");
      expectGraphError(
        await call(url(`/subscriptions/${mine.id}`), {
          method: "PATCH",
          token,
          body: { expirationDateTime: inMinutes(9) },
        }),
        404,
        "itemNotFound",
      );
      expectGraphError(await call(url(`/subscriptions/${mine.id}`), { method: "DELETE", token }), 404, "itemNotFound");
      const list = await call(url("/subscriptions"), { token });
      expect(list.json.value.map((s: { id: string }) => s.id)).not.toContain(mine.id);
    }
  });

  it(`holds a tenant to ${LIMIT} subscriptions`, async () => {
    const r = await receiver();
    const token = await stack.token({ app: true, tenant: LIMITED_TENANT });
    const body = { changeType: "created", notificationUrl: r.url, resource: `teams/${randomUUID()}/operations` };
    for (let i = 0; i < LIMIT; i++) await subscribed({ ...body, expirationDateTime: inMinutes(30) }, token);
    const error = expectGraphError(
      await subscribe({ ...body, expirationDateTime: inMinutes(30) }, token),
      403,
      "quotaLimitReached",
    );
    expect(error.message).toContain(String(LIMIT));
  });
});

describe("the per-tenant limit under concurrency", () => {
  it(`lets exactly as many of 10 concurrent creates through as the limit leaves, and frees a slot on delete`, async () => {
    const r = await receiver();
    const token = await stack.token({ app: true, tenant: CONTENDED_TENANT });
    const body = { changeType: "created", notificationUrl: r.url, resource: `teams/${randomUUID()}/operations` };
    const held: string[] = [];
    for (let i = 0; i < LIMIT - 3; i++)
      held.push((await subscribed({ ...body, expirationDateTime: inMinutes(30) }, token)).id);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => subscribe({ ...body, expirationDateTime: inMinutes(30) }, token)),
    );
    expect(results.filter((res) => res.status === 201)).toHaveLength(3);
    for (const refused of results.filter((res) => res.status !== 201)) {
      expectGraphError(refused, 403, "quotaLimitReached");
    }
    const listed = await call(url("/subscriptions"), { token });
    expect(listed.json.value).toHaveLength(LIMIT);
    expectGraphError(await subscribe({ ...body, expirationDateTime: inMinutes(30) }, token), 403, "quotaLimitReached");

    // A deletion frees its slot for one more, and only one.
    expect((await call(url(`/subscriptions/${held[0]}`), { method: "DELETE", token })).status).toBe(204);
    const again = await Promise.all(
      Array.from({ length: 4 }, () => subscribe({ ...body, expirationDateTime: inMinutes(30) }, token)),
    );
    expect(again.map((res) => res.status).sort()).toEqual([201, 403, 403, 403]);
    // A renewal keeps its slot.
    const renewed = await call(url(`/subscriptions/${held[1]}`), {
      method: "PATCH",
      token,
      body: { expirationDateTime: inMinutes(60) },
    });
    expect(renewed.status, renewed.text).toBe(200);
    expectGraphError(await subscribe({ ...body, expirationDateTime: inMinutes(30) }, token), 403, "quotaLimitReached");
  });
});

describe("notifications", () => {
  it("one per change type, with clientState, in Graph's payload; only the subscribed operation's", async () => {
    const team = randomUUID();
    const all = await receiver();
    const one = await receiver();
    const subscription = await subscribed({
      changeType: "created,updated",
      notificationUrl: all.url,
      resource: `teams/${team}/operations`,
      expirationDateTime: inMinutes(60),
      clientState: "state-all",
    });
    const opId = `op-${randomUUID()}`;
    const single = await subscribed({
      changeType: "updated",
      notificationUrl: one.url,
      resource: `teams/${team}/operations/${opId}`,
      expirationDateTime: inMinutes(60),
      clientState: "state-one",
    });
    const other = await createOperation(team);
    await createOperation(team, opId);
    const [created] = await waitFor(
      () => (about(all, opId, "created").length ? about(all, opId, "created") : undefined),
      "created",
    );
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      subscriptionId: subscription.id,
      subscriptionExpirationDateTime: subscription.expirationDateTime,
      changeType: "created",
      resource: `teams('${team}')/operations('${opId}')`,
      resourceData: {
        "@odata.type": "#microsoft.graph.teamsAsyncOperation",
        "@odata.id": `teams('${team}')/operations('${opId}')`,
        id: opId,
      },
      clientState: "state-all",
      tenantId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    await setStatus(team, opId, "inProgress");
    await waitFor(() => about(all, opId, "updated").length > 0, "updated");
    await setStatus(team, opId, "succeeded");
    await waitFor(() => about(one, opId, "updated").length >= 2, "both updates for the single-operation subscription");
    expect(one.acknowledged.every((n) => n.subscriptionId === single.id && n.clientState === "state-one")).toBe(true);
    expect(about(one, other)).toEqual([]);
    expect(about(one, opId, "created")).toEqual([]);
    // The resource in a notification is one this API serves.
    const read = await call(url(`/${created.resource}`), { token: app });
    expect(read.status, read.text).toBe(200);
  });

  it("deleted: one per deletion, plain or of a repeatable create; none for a refused conditional delete", async () => {
    const team = randomUUID();
    const r = await receiver();
    const one = await receiver();
    const subscription = await subscribed({
      changeType: "deleted",
      notificationUrl: r.url,
      resource: `teams/${team}/operations`,
      expirationDateTime: inMinutes(60),
      clientState: "state-deleted",
    });
    const opId = `op-${randomUUID()}`;
    await subscribed(
      {
        changeType: "created,updated,deleted",
        notificationUrl: one.url,
        resource: `me/joinedTeams/${team}/operations/${opId}`,
        expirationDateTime: inMinutes(60),
      },
      await stack.token({ groups: [team], scopes: "TeamsAsyncOperation.Read" }),
    );
    const remove = (id: string, headers: Record<string, string> = {}) =>
      call(url(`/teams/${team}/operations/${id}`), { method: "DELETE", token: app, headers });

    const plain = await createOperation(team);
    expect((await remove(plain)).status).toBe(204);
    const [deleted] = await waitFor(() => (about(r, plain).length ? about(r, plain) : undefined), "deleted");
    expect(deleted).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      subscriptionId: subscription.id,
      subscriptionExpirationDateTime: subscription.expirationDateTime,
      changeType: "deleted",
      resource: `teams('${team}')/operations('${plain}')`,
      resourceData: {
        "@odata.type": "#microsoft.graph.teamsAsyncOperation",
        "@odata.id": `teams('${team}')/operations('${plain}')`,
        id: plain,
      },
      clientState: "state-deleted",
      tenantId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expectGraphError(await call(url(`/${deleted.resource}`), { token: app }), 404, "itemNotFound");

    const repeatable = await call(url(`/teams/${team}/operations`), {
      method: "POST",
      token: app,
      headers: { "repeatability-request-id": randomUUID(), "repeatability-first-sent": new Date().toUTCString() },
      body: { operationType: "cloneTeam" },
    });
    expect(repeatable.status).toBe(201);
    const kept = await createOperation(team);
    expectGraphError(await remove(kept, { "if-match": '"stale"' }), 412, "resourceModified");
    expect((await remove(repeatable.json.id)).status).toBe(204);
    await waitFor(() => about(r, repeatable.json.id).length > 0, "the repeatable create's deletion");
    const barrier = await createOperation(team);
    expect((await remove(barrier)).status).toBe(204);
    await waitFor(() => about(r, barrier).length > 0, "a later deletion");
    expect(about(r, kept)).toEqual([]);
    expect(r.acknowledged.every((n) => n.changeType === "deleted")).toBe(true);
    expect(about(r, plain)).toHaveLength(1);

    // One operation's whole life, for a subscription to it: created, deleted, and created again under its id.
    await createOperation(team, opId);
    await waitFor(() => about(one, opId, "created").length > 0, "created");
    expect((await remove(opId)).status).toBe(204);
    await waitFor(() => about(one, opId, "deleted").length > 0, "deleted");
    await createOperation(team, opId);
    await waitFor(() => about(one, opId, "created").length > 1, "created again");
    expect(about(one, opId).map((n) => n.changeType)).toEqual(["created", "deleted", "created"]);
  });

  it("none to another tenant's subscription to the same team id", async () => {
    const team = randomUUID();
    const mine = await receiver();
    const theirs = await receiver();
    const otherTenant = await stack.token({ app: true, tenant: OTHER_TENANT });
    const body = { changeType: "created", resource: `teams/${team}/operations`, expirationDateTime: inMinutes(30) };
    await subscribed({ ...body, notificationUrl: mine.url });
    await subscribed({ ...body, notificationUrl: theirs.url }, otherTenant);
    const first = await createOperation(team);
    await waitFor(() => about(mine, first).length > 0, "the notification");
    const second = await createOperation(team);
    await waitFor(() => about(mine, second).length > 0, "a later notification");
    expect(theirs.received).toEqual([]);
  });

  it("renewal moves the expiration; deletion stops notifications", async () => {
    const team = randomUUID();
    const r = await receiver();
    const witness = await receiver();
    const body = { changeType: "created", resource: `teams/${team}/operations`, expirationDateTime: inMinutes(10) };
    const subscription = await subscribed({ ...body, notificationUrl: r.url });
    await subscribed({ ...body, notificationUrl: witness.url });
    const later = inMinutes(120);
    const renewed = await call(url(`/subscriptions/${subscription.id}`), {
      method: "PATCH",
      token: app,
      body: { expirationDateTime: later },
    });
    expect(renewed.status, renewed.text).toBe(200);
    expect(Date.parse(renewed.json.expirationDateTime)).toBe(Date.parse(later));
    let error = expectGraphError(
      await call(url(`/subscriptions/${subscription.id}`), {
        method: "PATCH",
        token: app,
        body: { expirationDateTime: later, notificationUrl: witness.url },
      }),
      400,
      "invalidRequest",
    );
    expect(detailTargets(error)).toEqual(["notificationUrl"]);
    error = expectGraphError(
      await call(url(`/subscriptions/${subscription.id}`), {
        method: "PATCH",
        token: app,
        body: { expirationDateTime: inMinutes(9999) },
      }),
      400,
      "invalidRequest",
    );
    expect(detailTargets(error)).toEqual(["expirationDateTime"]);

    const before = await createOperation(team);
    await waitFor(() => about(r, before).length > 0, "a notification before deletion");
    const deleted = await call(url(`/subscriptions/${subscription.id}`), { method: "DELETE", token: app });
    expect(deleted.status).toBe(204);
    expectGraphError(await call(url(`/subscriptions/${subscription.id}`), { token: app }), 404, "itemNotFound");
    const after = await createOperation(team);
    await waitFor(() => about(witness, after).length > 0, "the witness's notification");
    const barrier = await createOperation(team);
    await waitFor(() => about(witness, barrier).length > 0, "a later change-feed batch");
    expect(about(r, after)).toEqual([]);
  });

  it("renewal needs the token to still reach the team", async () => {
    const team = randomUUID();
    const r = await receiver();
    const user = randomUUID();
    const member = await stack.token({ user, groups: [team], scopes: "TeamsAsyncOperation.Read" });
    const subscription = await subscribed(
      {
        changeType: "created",
        notificationUrl: r.url,
        resource: `teams/${team}/operations`,
        expirationDateTime: inMinutes(10),
      },
      member,
    );
    const formerMember = await stack.token({ user, groups: [], scopes: "TeamsAsyncOperation.Read" });
    expectGraphError(
      await call(url(`/subscriptions/${subscription.id}`), {
        method: "PATCH",
        token: formerMember,
        body: { expirationDateTime: inMinutes(20) },
      }),
      403,
      "accessDenied",
    );
  });

  it("an expired subscription is gone and gets nothing", async () => {
    const team = randomUUID();
    const r = await receiver();
    const witness = await receiver();
    const soon = new Date(Date.now() + 2_000).toISOString();
    const body = { changeType: "created", resource: `teams/${team}/operations` };
    const subscription = await subscribed({ ...body, notificationUrl: r.url, expirationDateTime: soon });
    await subscribed({ ...body, notificationUrl: witness.url, expirationDateTime: inMinutes(30) });
    await waitFor(
      async () => (await call(url(`/subscriptions/${subscription.id}`), { token: app })).status === 404,
      "expiry",
    );
    const id = await createOperation(team);
    await waitFor(() => about(witness, id).length > 0, "the witness's notification");
    const barrier = await createOperation(team);
    await waitFor(() => about(witness, barrier).length > 0, "a later change-feed batch");
    expect(r.received).toEqual([]);
  });
});

describe("delivery", () => {
  it("retries while the receiver fails, then delivers once it recovers: nothing lost", async () => {
    const team = randomUUID();
    const r = await receiver();
    await subscribed({
      changeType: "created",
      notificationUrl: r.url,
      resource: `teams/${team}/operations`,
      expirationDateTime: inMinutes(30),
    });
    r.failNext = 2;
    const ids = [await createOperation(team), await createOperation(team)];
    await waitFor(() => ids.every((id) => about(r, id).length > 0), "delivery after the failures");
    expect(r.failNext).toBe(0);
    // At least once: every notification acknowledged, each exactly once (failed attempts are not acknowledged).
    for (const id of ids) expect(about(r, id)).toHaveLength(1);
    expect(r.received.length).toBeGreaterThan(r.acknowledged.length);
  });

  it("drops a batch after the last retry and says so with a missed lifecycle notification", async () => {
    const team = randomUUID();
    const r = await receiver();
    const lifecycle = await receiver();
    const subscription = await subscribed({
      changeType: "created",
      notificationUrl: r.url,
      lifecycleNotificationUrl: lifecycle.url,
      resource: `teams/${team}/operations`,
      expirationDateTime: inMinutes(30),
      clientState: "state-missed",
    });
    expect(lifecycle.validations).toHaveLength(1);
    r.notify = "fail";
    const id = await createOperation(team);
    // The lifecycle run may also ask for reauthorization meanwhile (the expiration is within its notice): only the
    // `missed` notification is this test's.
    const missed = await waitFor(
      () => lifecycle.acknowledged.find((n) => n.lifecycleEvent === "missed"),
      "missed",
      90_000,
    );
    expect(missed).toEqual({
      subscriptionId: subscription.id,
      subscriptionExpirationDateTime: subscription.expirationDateTime,
      tenantId: expect.any(String),
      clientState: "state-missed",
      lifecycleEvent: "missed",
    });
    // The first attempt and the three retries of the schedule (1,1,1).
    expect(r.received.filter((n) => n.resourceData.id === id)).toHaveLength(4);
  }, 120_000);

  it("a hanging receiver does not hold up another; it is given up on and retried", async () => {
    const team = randomUUID();
    const hanging = await receiver();
    const healthy = await receiver();
    const body = { changeType: "created", resource: `teams/${team}/operations`, expirationDateTime: inMinutes(30) };
    await subscribed({ ...body, notificationUrl: hanging.url });
    await subscribed({ ...body, notificationUrl: healthy.url });
    hanging.notify = "hang";
    const id = await createOperation(team);
    await waitFor(() => about(healthy, id).length > 0, "the healthy receiver's notification");
    // Delivered to the healthy one while the hanging one was still holding its request.
    expect(hanging.received.filter((n) => n.resourceData.id === id).length).toBeGreaterThan(0);
    expect(hanging.open()).toBeGreaterThan(0);
    hanging.notify = "accept";
    await waitFor(() => about(hanging, id).length > 0, "the retry after the timeout");
  });
});
