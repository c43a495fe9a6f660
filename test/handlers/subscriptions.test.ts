/**
 * The subscriptions API's requests and answers, in process: the handlers the function files register, called with
 * the library's HttpRequest and InvocationContext (test/support/inProcess.ts), over the in-memory subscription store
 * (test/support/memorySubscriptionStore.ts, held to the Cosmos store's contract) installed as the process's, with
 * loopback receivers for the validation handshake and lifecycle notifications (SUBSCRIPTION_ALLOW_LOOPBACK). What a
 * caller sees: the status, Graph's error code and a message naming the problem, the body; and what the store then
 * holds. Delivery, the lifecycle run and the same routes over real HTTP and Cosmos DB are in test/integration.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { DEV_CLIENT_APP_ID, DEV_TENANT_ID } from "../../local/devIdentity.js";
import { PreconditionFailedError, ThrottledError, UnavailableError } from "../../shared/errors.js";
import { useSubscriptionStore } from "../../shared/store/subscriptions.js";
import { selfSignedEncryptionCertificate } from "../support/certificates.js";
import { detailTargets, expectGraphError, OTHER_TENANT } from "../support/http.js";
import { BASE_URL, loadInProcessApp, type InProcessApp } from "../support/inProcess.js";
import { MemorySubscriptionStore } from "../support/memorySubscriptionStore.js";
import { waitFor, type Receiver } from "../support/receiver.js";
import { inMinutes, receiverPool } from "../support/subscriptionCalls.js";

/** The tenant whose limit the quota test fills; the others never come near theirs (the limit is every tenant's). */
const LIMITED_TENANT = "e5e5e5e5-0000-4000-8000-000000000005";
const LIMIT = 60;
const READ = "TeamsAsyncOperation.Read";

let app: InProcessApp;
let appToken: string;
/** The process's subscription store, installed before the app loads. */
const subscriptions = new MemorySubscriptionStore();
const receivers = receiverPool();

beforeAll(async () => {
  useSubscriptionStore(subscriptions);
  app = await loadInProcessApp({
    SUBSCRIPTION_ALLOW_LOOPBACK: "true",
    SUBSCRIPTION_VALIDATION_TIMEOUT_SECONDS: "1",
    SUBSCRIPTION_DELIVERY_TIMEOUT_SECONDS: "1",
    SUBSCRIPTIONS_PER_TENANT: String(LIMIT),
  });
  appToken = await app.token({ app: true });
});
beforeEach(() => subscriptions.clearFaults());
afterAll(() => receivers.close());

const one = (id: string) => `subscriptions/${id}`;

function subscribe(body: Record<string, unknown>, token = appToken) {
  return app.request("POST", "subscriptions", { token, body });
}

/** A body Graph's reference page would send, to a new receiver, for a new team. */
async function subscriptionBody(overrides: Record<string, unknown> = {}) {
  const receiver = await receivers.start();
  return {
    receiver,
    body: {
      changeType: "created,updated",
      notificationUrl: receiver.url,
      resource: `teams/${randomUUID()}/operations`,
      expirationDateTime: inMinutes(30),
      clientState: "secret",
      ...overrides,
    },
  };
}

/** A subscription that must be created: its representation. */
async function subscribed(overrides: Record<string, unknown> = {}, token = appToken) {
  const { body } = await subscriptionBody(overrides);
  const res = await subscribe(body, token);
  expect(res.status, res.text).toBe(201);
  return res.json as Record<string, any>;
}

const stored = (id: string) => subscriptions.documents().find((d) => d.id === id);
const slotIds = (tenantId = DEV_TENANT_ID) => (subscriptions.quotaSlots(tenantId) ?? []).map((s) => s.id);
const lifecycleEvents = (r: Receiver, id: string) =>
  r.received.filter((n) => n.subscriptionId === id).map((n) => n.lifecycleEvent as string);

/** A delegated user in one team, and the same user's token once it has left it. */
async function member(team: string, user = randomUUID()) {
  return {
    user,
    token: await app.token({ user, groups: [team], scopes: READ }),
    formerToken: await app.token({ user, groups: [], scopes: READ }),
  };
}

describe("POST /subscriptions", () => {
  it("runs the handshake, stores the subscription with a quota slot, and answers 201 with Graph's subscription", async () => {
    const { receiver, body } = await subscriptionBody();
    const res = await subscribe(body);
    expect(res.functionName).toBe("createSubscription");
    expect(res.status, res.text).toBe(201);
    expect(receiver.validations).toHaveLength(1);
    const id = res.json.id as string;
    expect(res.headers.get("location")).toBe(`${BASE_URL}/subscriptions/${id}`);
    expect(res.json).toEqual({
      "@odata.context": `${BASE_URL}/$metadata#subscriptions/$entity`,
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      resource: body.resource,
      applicationId: DEV_CLIENT_APP_ID,
      changeType: "created,updated",
      clientState: "secret",
      notificationUrl: receiver.url,
      notificationQueryOptions: null,
      lifecycleNotificationUrl: null,
      expirationDateTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/),
      creatorId: DEV_CLIENT_APP_ID.toLowerCase(),
      includeResourceData: false,
      latestSupportedTlsVersion: "v1_2",
      encryptionCertificate: null,
      encryptionCertificateId: null,
      notificationUrlAppId: null,
    });
    expect(Date.parse(res.json.expirationDateTime)).toBe(Date.parse(body.expirationDateTime));
    const team = body.resource.split("/")[1]!;
    const document = stored(id)!;
    expect(document).toMatchObject({
      resourceKey: `${DEV_TENANT_ID}:${team}`,
      tenantId: DEV_TENANT_ID,
      teamId: team,
      changeTypes: ["created", "updated"],
      creator: { kind: "application", id: DEV_CLIENT_APP_ID.toLowerCase() },
    });
    // The document lives as long as the subscription: its TTL ends at the expiration.
    expect(document.ttl).toBeGreaterThan(29 * 60);
    expect(document.ttl).toBeLessThanOrEqual(30 * 60);
    expect(slotIds()).toContain(id);
  });

  it("refuses an endpoint that fails the handshake, naming the URL and why, and keeps nothing", async () => {
    const { receiver, body } = await subscriptionBody();
    receiver.validation = "wrong";
    const before = subscriptions.documents().length;
    const wrong = expectGraphError(await subscribe(body), 400, "invalidRequest");
    expect(wrong.target).toBe("notificationUrl");
    expect(wrong.message).toContain("its answer was not the validation token it was sent");

    receiver.validation = "echo";
    const lifecycle = await receivers.start();
    lifecycle.validation = "html";
    const refused = expectGraphError(
      await subscribe({ ...body, lifecycleNotificationUrl: lifecycle.url }),
      400,
      "invalidRequest",
    );
    expect(refused.target).toBe("lifecycleNotificationUrl");
    expect(refused.message).toContain("content type 'text/html");
    expect(subscriptions.documents()).toHaveLength(before);
    expect(subscriptions.documents().map((d) => d.notificationUrl)).not.toContain(receiver.url);
  });

  it("names every offending property of a bad body, and sends no handshake for one", async () => {
    const { receiver, body } = await subscriptionBody({
      changeType: "created,moved",
      expirationDateTime: inMinutes(-5),
      resource: "teams/not-a-team/operations",
    });
    const error = expectGraphError(await subscribe(body), 400, "invalidRequest");
    expect(detailTargets(error).sort()).toEqual(["changeType"]);
    const fixed = expectGraphError(await subscribe({ ...body, changeType: "created" }), 400, "invalidRequest");
    expect(detailTargets(fixed).sort()).toEqual(["expirationDateTime", "resource"]);
    expect(receiver.validations).toEqual([]);
  });

  it("refuses a caller without the read permission, or outside the team it names (403), before any handshake", async () => {
    const team = randomUUID();
    const { receiver, body } = await subscriptionBody({ resource: `teams/${team}/operations` });
    const noRead = await app.token({ app: true, roles: "Some.Other.Permission" });
    expect(expectGraphError(await subscribe(body, noRead), 403, "accessDenied").message).toMatch(
      /TeamsAsyncOperation.Read.All/,
    );
    const outsider = await app.token({ groups: [randomUUID()], scopes: READ });
    expect(expectGraphError(await subscribe(body, outsider), 403, "accessDenied").message).toBe(
      "The signed-in user is not a member of this team.",
    );
    expectGraphError(await subscribe(body, ""), 401, "InvalidAuthenticationToken");
    expect(receiver.validations).toEqual([]);
    expect((await subscribe(body, (await member(team)).token)).status).toBe(201);
  });

  it("refuses a token that names no user to own the subscription", async () => {
    const team = randomUUID();
    const { receiver, body } = await subscriptionBody({ resource: `teams/${team}/operations` });
    const anonymous = await app.token({ groups: [team], scopes: READ, extraClaims: { oid: undefined } });
    const error = expectGraphError(await subscribe(body, anonymous), 403, "accessDenied");
    expect(error.message).toBe("The token names no user (oid) or application to own the subscription.");
    expect(receiver.validations).toEqual([]);
  });

  it("refuses resource data where no key signs validation tokens (400 notSupported)", async () => {
    const certificate = selfSignedEncryptionCertificate();
    const { body } = await subscriptionBody({
      includeResourceData: true,
      encryptionCertificate: certificate.base64,
      encryptionCertificateId: "my-certificate",
    });
    const error = expectGraphError(await subscribe(body), 400, "notSupported");
    expect(error).toMatchObject({
      target: "includeResourceData",
      message: "This service is not set up to send resource data.",
    });
  });

  it("refuses a delegated subscription without a lifecycle URL for more than an hour, in Graph's words", async () => {
    const team = randomUUID();
    const { token } = await member(team);
    const { body } = await subscriptionBody({
      resource: `teams/${team}/operations`,
      expirationDateTime: inMinutes(90),
    });
    const error = expectGraphError(await subscribe(body, token), 400, "invalidRequest");
    expect(error.details).toContainEqual(
      expect.objectContaining({
        target: "lifecycleNotificationUrl",
        message:
          "lifecycleNotificationUrl is a required property for subscription creation on this resource when the expirationDateTime value is set to greater than 1 hour.",
      }),
    );
  });

  it("gives the quota slot back when the store fails the create, and says to retry", async () => {
    const { body } = await subscriptionBody();
    const slots = slotIds();
    subscriptions.failOn("create", () => new UnavailableError("The store is not available; retry later.", 5));
    const res = await subscribe(body);
    expect(expectGraphError(res, 503, "serviceNotAvailable").message).toBe("The store is not available; retry later.");
    expect(res.headers.get("retry-after")).toBe("5");
    expect(slotIds().sort()).toEqual(slots.sort());
  });
});

describe("the per-tenant limit", () => {
  it("is a 403 quotaLimitReached saying how many are held, without a handshake; a deletion frees a slot", async () => {
    const token = await app.token({ app: true, tenant: LIMITED_TENANT });
    const held = [];
    for (let i = 0; i < LIMIT; i++) held.push(await subscribed({}, token));
    const { receiver, body } = await subscriptionBody();
    const refused = expectGraphError(await subscribe(body, token), 403, "quotaLimitReached");
    expect(refused.message).toBe(
      `The tenant holds ${LIMIT} subscriptions, the most it may hold (${LIMIT}); delete one or let one expire.`,
    );
    expect(receiver.validations).toEqual([]);
    // Another tenant is not counted against this one.
    expect((await subscribe(body)).status).toBe(201);

    expect((await app.request("DELETE", one(held[0]!.id), { token })).status).toBe(204);
    expect(slotIds(LIMITED_TENANT)).toHaveLength(LIMIT - 1);
    expect((await subscribe(body, token)).status).toBe(201);
    expect(slotIds(LIMITED_TENANT)).toHaveLength(LIMIT);
  });
});

describe("GET /subscriptions/{id} and GET /subscriptions", () => {
  it("answers the caller's own subscription as it was created", async () => {
    const created = await subscribed();
    const read = await app.request("GET", one(created.id), { token: appToken });
    expect(read.functionName).toBe("getSubscription");
    expect(read.status).toBe(200);
    expect(read.json).toEqual(created);
    // A GUID in capitals is the same subscription.
    expect((await app.request("GET", one(created.id.toUpperCase()), { token: appToken })).json).toEqual(created);
  });

  it("answers 404 for another creator's or another tenant's, as for one that does not exist", async () => {
    const created = await subscribed();
    const otherUser = await app.token({ scopes: READ });
    const otherTenant = await app.token({ app: true, tenant: OTHER_TENANT });
    for (const token of [otherUser, otherTenant]) {
      const res = await app.request("GET", one(created.id), { token });
      expect(expectGraphError(res, 404, "itemNotFound").message).toBe("The subscription does not exist.");
    }
    expectGraphError(await app.request("GET", one(randomUUID()), { token: appToken }), 404, "itemNotFound");
  });

  it("refuses an id that is not a GUID (400 naming it) and a token without the read permission (403)", async () => {
    const bad = expectGraphError(
      await app.request("GET", one("not-a-guid"), { token: appToken }),
      400,
      "invalidRequest",
    );
    expect(bad).toMatchObject({ target: "subscriptionId", message: "The subscription id in the path must be a GUID." });
    const noRead = await app.token({ app: true, roles: "Some.Other.Permission" });
    // The permission is checked first: a caller without it learns nothing of the id either.
    expectGraphError(await app.request("GET", one("not-a-guid"), { token: noRead }), 403, "accessDenied");
    expectGraphError(await app.request("GET", "subscriptions", { token: noRead }), 403, "accessDenied");
  });

  it("lists only the caller's own live subscriptions, oldest first", async () => {
    const user = randomUUID();
    const team = randomUUID();
    const token = await app.token({ user, groups: [team], scopes: READ });
    const resource = `teams/${team}/operations`;
    const first = await subscribed({ resource }, token);
    const second = await subscribed({ resource }, token);
    await subscribed({ resource: `teams/${team}/operations` }, await app.token({ groups: [team], scopes: READ }));
    const list = await app.request("GET", "subscriptions", { token });
    expect(list.functionName).toBe("listSubscriptions");
    expect(list.status).toBe(200);
    // Each entry as the entity is written, without the entity's own context.
    const entry = ({ "@odata.context": _, ...rest }: Record<string, unknown>) => rest;
    expect(list.json).toEqual({
      "@odata.context": `${BASE_URL}/$metadata#subscriptions`,
      value: [entry(first), entry(second)],
    });
  });

  it("answers a store that is busy with 429 and its Retry-After", async () => {
    subscriptions.failOn(
      "listByCreator",
      () => new ThrottledError("The store is busy; retry after the time given.", 3),
    );
    const res = await app.request("GET", "subscriptions", { token: appToken });
    expectGraphError(res, 429, "activityLimitReached");
    expect(res.headers.get("retry-after")).toBe("3");
  });
});

describe("PATCH /subscriptions/{id}", () => {
  it("renews: 200 with the new expiration; the stored TTL and the quota slot move with it", async () => {
    const created = await subscribed();
    const expirationDateTime = inMinutes(120);
    const res = await app.request("PATCH", one(created.id), { token: appToken, body: { expirationDateTime } });
    expect(res.functionName).toBe("updateSubscription");
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ ...created, expirationDateTime: res.json.expirationDateTime });
    expect(Date.parse(res.json.expirationDateTime)).toBe(Date.parse(expirationDateTime));
    const document = stored(created.id)!;
    expect(document.renewedDateTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
    expect(document.ttl).toBeGreaterThan(119 * 60);
    const slot = subscriptions.quotaSlots(DEV_TENANT_ID)!.find((s) => s.id === created.id);
    expect(slot?.expirationDateTime).toBe(document.expirationDateTime);
  });

  it("is applied when it loses a race to another write: it reads again and renews", async () => {
    const created = await subscribed();
    let raced = 0;
    subscriptions.failOn("replace", () => {
      raced++;
      subscriptions.clearFaults();
      return new PreconditionFailedError();
    });
    const expirationDateTime = inMinutes(45);
    const res = await app.request("PATCH", one(created.id), { token: appToken, body: { expirationDateTime } });
    expect(res.status, res.text).toBe(200);
    expect(raced).toBe(1);
    expect(Date.parse(stored(created.id)!.expirationDateTime)).toBe(Date.parse(expirationDateTime));
  });

  it("refuses what may not change, an expiration out of range, and more than an hour without a lifecycle URL", async () => {
    const team = randomUUID();
    const { token } = await member(team);
    const created = await subscribed({ resource: `teams/${team}/operations` }, token);
    const patch = (body: unknown) => app.request("PATCH", one(created.id), { token, body });
    const readOnly = expectGraphError(
      await patch({ expirationDateTime: inMinutes(20), clientState: "x" }),
      400,
      "invalidRequest",
    );
    expect(readOnly.details[0]).toMatchObject({
      target: "clientState",
      message:
        "Only expirationDateTime, encryptionCertificate and encryptionCertificateId can be changed; 'clientState' cannot.",
    });
    expect(
      detailTargets(expectGraphError(await patch({ expirationDateTime: inMinutes(-1) }), 400, "invalidRequest")),
    ).toEqual(["expirationDateTime"]);
    const tooLong = expectGraphError(await patch({ expirationDateTime: inMinutes(90) }), 400, "invalidRequest");
    expect(tooLong.details[0]).toMatchObject({
      target: "lifecycleNotificationUrl",
      message:
        "lifecycleNotificationUrl is a required property for subscription renewal on this resource when the expirationDateTime value is set to greater than 1 hour.",
    });
    expect((await patch({ expirationDateTime: inMinutes(55) })).status).toBe(200);
  });

  it("replaces the certificate and its id alongside the expiration, and refuses one that cannot be used", async () => {
    const first = selfSignedEncryptionCertificate();
    const next = selfSignedEncryptionCertificate();
    const created = await subscribed({ encryptionCertificate: first.base64, encryptionCertificateId: "first" });
    expect(created).toMatchObject({ encryptionCertificate: first.base64, encryptionCertificateId: "first" });
    const res = await app.request("PATCH", one(created.id), {
      token: appToken,
      body: { expirationDateTime: inMinutes(40), encryptionCertificate: next.base64, encryptionCertificateId: "next" },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ encryptionCertificate: next.base64, encryptionCertificateId: "next" });
    const refused = await app.request("PATCH", one(created.id), {
      token: appToken,
      body: { expirationDateTime: inMinutes(40), encryptionCertificate: "bm90IGEgY2VydGlmaWNhdGU=" },
    });
    expect(detailTargets(expectGraphError(refused, 400, "invalidRequest"))).toEqual(["encryptionCertificate"]);
    expect(stored(created.id)).toMatchObject({ encryptionCertificate: next.base64, encryptionCertificateId: "next" });
  });

  it("removes the subscription of a creator who has left the team: 403 saying so, its slot freed, subscriptionRemoved sent", async () => {
    const team = randomUUID();
    const { token, formerToken } = await member(team);
    const lifecycle = await receivers.start();
    const created = await subscribed(
      { resource: `me/joinedTeams/${team}/operations`, lifecycleNotificationUrl: lifecycle.url },
      token,
    );
    expect(slotIds()).toContain(created.id);
    const res = await app.request("PATCH", one(created.id), {
      token: formerToken,
      body: { expirationDateTime: inMinutes(40) },
    });
    expect(expectGraphError(res, 403, "accessDenied").message).toBe(
      "The signed-in user is not a member of this team. The subscription was removed.",
    );
    expect(stored(created.id)).toBeUndefined();
    expect(slotIds()).not.toContain(created.id);
    await waitFor(() => lifecycleEvents(lifecycle, created.id).length > 0, "subscriptionRemoved");
    expect(lifecycleEvents(lifecycle, created.id)).toEqual(["subscriptionRemoved"]);
    expect(app.logs.map((l) => l.message)).toContainEqual(
      expect.stringContaining(`subscription ${created.id} removed (its creator is no longer a member of the team)`),
    );
    expectGraphError(await app.request("GET", one(created.id), { token }), 404, "itemNotFound");
  });

  it("keeps the subscription when the token cannot tell (group overage) or lacks the permission: 403 only", async () => {
    const team = randomUUID();
    const { user, token } = await member(team);
    const created = await subscribed({ resource: `teams/${team}/operations` }, token);
    const overage = await app.token({ user, scopes: READ, extraClaims: { _claim_names: { groups: "src1" } } });
    const noScope = await app.token({ user, groups: [], scopes: "User.Read" });
    for (const refused of [overage, noScope]) {
      const res = await app.request("PATCH", one(created.id), {
        token: refused,
        body: { expirationDateTime: inMinutes(40) },
      });
      expect(expectGraphError(res, 403, "accessDenied").message).not.toContain("removed");
    }
    expect(stored(created.id)).toBeDefined();
  });
});

describe("POST /subscriptions/{id}/reauthorize", () => {
  async function dueForReauthorization() {
    const lifecycle = await receivers.start();
    // Within the notice (60 minutes by default): a reauthorizationRequired is due for this expiration.
    const created = await subscribed({ lifecycleNotificationUrl: lifecycle.url, expirationDateTime: inMinutes(30) });
    return { created, lifecycle };
  }

  it("answers 204 and settles the pending reauthorizationRequired of the current expiration", async () => {
    const { created } = await dueForReauthorization();
    expect(stored(created.id)!.reauthorizationNotifiedFor).toBeUndefined();
    const res = await app.request("POST", `${one(created.id)}/reauthorize`, { token: appToken });
    expect(res.functionName).toBe("reauthorizeSubscription");
    expect(res.status, res.text).toBe(204);
    expect(res.text).toBe("");
    const document = stored(created.id)!;
    expect(document.reauthorizationNotifiedFor).toBe(document.expirationDateTime);
    // An empty JSON object is no body either.
    expect((await app.request("POST", `${one(created.id)}/reauthorize`, { token: appToken, body: {} })).status).toBe(
      204,
    );
  });

  it("refuses a body, another's subscription (404) and a creator who has left the team (403, removed)", async () => {
    const { created } = await dueForReauthorization();
    const withBody = await app.request("POST", `${one(created.id)}/reauthorize`, {
      token: appToken,
      body: { expirationDateTime: inMinutes(40) },
    });
    expect(expectGraphError(withBody, 400, "invalidRequest").message).toBe("This action takes no request body.");
    const other = await app.token({ app: true, tenant: OTHER_TENANT });
    expectGraphError(
      await app.request("POST", `${one(created.id)}/reauthorize`, { token: other }),
      404,
      "itemNotFound",
    );

    const team = randomUUID();
    const { token, formerToken } = await member(team);
    const lifecycle = await receivers.start();
    const mine = await subscribed(
      { resource: `teams/${team}/operations`, lifecycleNotificationUrl: lifecycle.url },
      token,
    );
    const refused = await app.request("POST", `${one(mine.id)}/reauthorize`, { token: formerToken });
    expect(expectGraphError(refused, 403, "accessDenied").message).toBe(
      "The signed-in user is not a member of this team. The subscription was removed.",
    );
    expect(stored(mine.id)).toBeUndefined();
    await waitFor(() => lifecycleEvents(lifecycle, mine.id).includes("subscriptionRemoved"), "subscriptionRemoved");
  });

  it("lets a change that got in first win: a renewal racing the settlement is not undone", async () => {
    const { created } = await dueForReauthorization();
    subscriptions.failOn("replace", () => new PreconditionFailedError());
    const res = await app.request("POST", `${one(created.id)}/reauthorize`, { token: appToken });
    expect(res.status, res.text).toBe(204);
    expect(stored(created.id)!.reauthorizationNotifiedFor).toBeUndefined();
  });
});

describe("DELETE /subscriptions/{id}", () => {
  it("answers 204, frees the slot, and the subscription is gone: 404 after", async () => {
    const created = await subscribed();
    expect(slotIds()).toContain(created.id);
    const res = await app.request("DELETE", one(created.id), { token: appToken });
    expect(res.functionName).toBe("deleteSubscription");
    expect(res.status).toBe(204);
    expect(stored(created.id)).toBeUndefined();
    expect(slotIds()).not.toContain(created.id);
    expectGraphError(await app.request("GET", one(created.id), { token: appToken }), 404, "itemNotFound");
    expectGraphError(await app.request("DELETE", one(created.id), { token: appToken }), 404, "itemNotFound");
  });

  it("leaves another creator's subscription alone (404)", async () => {
    const created = await subscribed();
    const other = await app.token({ scopes: READ });
    const res = await app.request("DELETE", one(created.id), { token: other });
    expect(expectGraphError(res, 404, "itemNotFound").message).toBe("The subscription does not exist.");
    expect(stored(created.id)).toBeDefined();
  });

  it("answers 404 when another request deleted it between the read and the delete", async () => {
    const created = await subscribed();
    vi.spyOn(subscriptions, "delete").mockResolvedValueOnce(false);
    const res = await app.request("DELETE", one(created.id), { token: appToken });
    expect(expectGraphError(res, 404, "itemNotFound").message).toBe("The subscription does not exist.");
  });
});
