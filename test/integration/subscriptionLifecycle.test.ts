/**
 * Lifecycle notifications that no change of an operation causes, through the local runner over real HTTP with
 * loopback receivers, the lifecycle run on a one-second schedule: reauthorizationRequired before a subscription
 * expires, and subscriptionRemoved when the service removes a subscription (its creator left the team, as a renewal
 * shows; its tenant is no longer accepted). Every payload is Graph's lifecycle notification.
 */
import { randomUUID } from "node:crypto";
import type { Container } from "@azure/cosmos";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_TENANT_ID } from "../../local/devIdentity.js";
import { call, expectGraphError, OTHER_TENANT } from "../support/http.js";
import { waitFor, type Receiver } from "../support/receiver.js";
import { inMinutes, receiverPool, subscriptionCalls } from "../support/subscriptionCalls.js";
import { startStack, type Stack } from "../support/stack.js";

let stack: Stack;
let app: string;
let subscriptions: Container;
const receivers = receiverPool();

const url = (path: string) => `${stack.baseUrl}${path}`;

const receiver = () => receivers.start();
const { subscribed, renew } = subscriptionCalls(
  () => stack.baseUrl,
  () => app,
);

/** The lifecycle notifications a receiver acknowledged for one subscription, of one event. */
const events = (r: Receiver, subscriptionId: string, lifecycleEvent: string) =>
  r.acknowledged.filter((n) => n.subscriptionId === subscriptionId && n.lifecycleEvent === lifecycleEvent);

beforeAll(async () => {
  stack = await startStack({
    env: {
      SUBSCRIPTION_ALLOW_LOOPBACK: "true",
      SUBSCRIPTION_VALIDATION_TIMEOUT_SECONDS: "2",
      SUBSCRIPTION_DELIVERY_TIMEOUT_SECONDS: "2",
      SUBSCRIPTION_LIFECYCLE_SCHEDULE: "* * * * * *",
      SUBSCRIPTION_REAUTHORIZATION_NOTICE_MINUTES: "5",
    },
  });
  app = await stack.token({ app: true });
  subscriptions = stack.container.database.container("subscriptions");
});
afterAll(async () => {
  await stack?.stop();
  await receivers.close();
});

describe("reauthorizationRequired", () => {
  it("is sent before expiry until acknowledged, once per expiration; a renewal asks again", async () => {
    const lifecycle = await receiver();
    const notifications = await receiver();
    const body = {
      changeType: "created",
      notificationUrl: notifications.url,
      lifecycleNotificationUrl: lifecycle.url,
      resource: `teams/${randomUUID()}/operations`,
    };
    lifecycle.failNext = 2;
    const soon = await subscribed({ ...body, expirationDateTime: inMinutes(3), clientState: "state-soon" });
    const later = await subscribed({ ...body, expirationDateTime: inMinutes(30) });
    const [asked] = await waitFor(
      () =>
        events(lifecycle, soon.id, "reauthorizationRequired").length
          ? events(lifecycle, soon.id, "reauthorizationRequired")
          : undefined,
      "reauthorizationRequired",
    );
    expect(asked).toEqual({
      subscriptionId: soon.id,
      subscriptionExpirationDateTime: soon.expirationDateTime,
      tenantId: DEV_TENANT_ID,
      clientState: "state-soon",
      lifecycleEvent: "reauthorizationRequired",
    });
    // The two unacknowledged attempts were asked again at the next runs.
    expect(lifecycle.received.filter((n) => n.subscriptionId === soon.id)).toHaveLength(3);

    // A subscription due later is asked in a later run: by then the first has been left alone.
    const barrier = await subscribed({ ...body, expirationDateTime: inMinutes(3) });
    await waitFor(() => events(lifecycle, barrier.id, "reauthorizationRequired").length > 0, "a later run");
    expect(events(lifecycle, soon.id, "reauthorizationRequired")).toHaveLength(1);

    // Renewed, but still within the notice: asked again for the new expiration.
    const renewed = await renew(soon.id, inMinutes(4));
    expect(renewed.status, renewed.text).toBe(200);
    await waitFor(() => events(lifecycle, soon.id, "reauthorizationRequired").length > 1, "asked again");
    expect(events(lifecycle, soon.id, "reauthorizationRequired")[1].subscriptionExpirationDateTime).toBe(
      renewed.json.expirationDateTime,
    );
    // Renewed beyond the notice: nothing more.
    expect((await renew(soon.id, inMinutes(60))).status).toBe(200);
    const second = await subscribed({ ...body, expirationDateTime: inMinutes(3) });
    await waitFor(() => events(lifecycle, second.id, "reauthorizationRequired").length > 0, "a later run");
    expect(events(lifecycle, soon.id, "reauthorizationRequired")).toHaveLength(2);
    expect(lifecycle.received.filter((n) => n.subscriptionId === later.id)).toEqual([]);
    expect(notifications.received).toEqual([]);
  });
});

describe("POST /subscriptions/{id}/reauthorize", () => {
  const reauthorize = (id: string, token = app, body?: unknown) =>
    call(url(`/subscriptions/${id}/reauthorize`), { method: "POST", token, ...(body === undefined ? {} : { body }) });

  it("settles a pending reauthorizationRequired: 204, and the challenge of this expiration is not sent again", async () => {
    const lifecycle = await receiver();
    const notifications = await receiver();
    const body = {
      changeType: "created",
      notificationUrl: notifications.url,
      lifecycleNotificationUrl: lifecycle.url,
      resource: `teams/${randomUUID()}/operations`,
    };
    // The lifecycle URL never acknowledges: the challenge stays pending and is sent at every run.
    lifecycle.notify = "fail";
    const pending = await subscribed({ ...body, expirationDateTime: inMinutes(3) });
    const sent = () => lifecycle.received.filter((n) => n.subscriptionId === pending.id).length;
    await waitFor(() => sent() >= 2, "the challenge sent at two runs");

    const answer = await reauthorize(pending.id);
    expect(answer.status, answer.text).toBe(204);
    expect(answer.text).toBe("");
    expect(answer.headers.get("request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const after = sent();
    // Runs after it: another subscription due now is asked (twice), this one no more. Its expiration is unchanged.
    const barrier = await subscribed({ ...body, expirationDateTime: inMinutes(3) });
    await waitFor(() => lifecycle.received.filter((n) => n.subscriptionId === barrier.id).length >= 2, "later runs");
    expect(sent()).toBe(after);
    const read = await call(url(`/subscriptions/${pending.id}`), { token: app });
    expect(read.json.expirationDateTime).toBe(pending.expirationDateTime);
    // Asking again changes nothing, and takes no body but an empty one.
    expect((await reauthorize(pending.id, app, {})).status).toBe(204);
    expectGraphError(await reauthorize(pending.id, app, { expirationDateTime: inMinutes(30) }), 400, "invalidRequest");
  });

  it("checks the caller's access now: another caller's is 404, no token 401, no read permission 403", async () => {
    const notifications = await receiver();
    const team = randomUUID();
    const member = await stack.token({ groups: [team], scopes: "TeamsAsyncOperation.Read" });
    const subscription = await subscribed(
      {
        changeType: "created",
        notificationUrl: notifications.url,
        resource: `me/joinedTeams/${team}/operations`,
        expirationDateTime: inMinutes(30),
      },
      member,
    );
    expect((await reauthorize(subscription.id, member)).status).toBe(204);
    expectGraphError(await reauthorize(subscription.id, app), 404, "itemNotFound");
    expectGraphError(await reauthorize(subscription.id, ""), 401, "InvalidAuthenticationToken");
    // The same user without the read permission: refused, and the subscription kept (nothing says they left).
    const unscoped = await stack.token({ groups: [team], scopes: "Something.Else" });
    expectGraphError(await reauthorize(subscription.id, unscoped), 403, "accessDenied");
    expect((await reauthorize(subscription.id, member)).status).toBe(204);
    expectGraphError(await reauthorize(randomUUID(), member), 404, "itemNotFound");
    expectGraphError(await reauthorize("not-a-guid", member), 400, "invalidRequest");
  });

  it("removes the subscription of a creator who has left the team, as a renewal does: 403 and subscriptionRemoved", async () => {
    const team = randomUUID();
    const user = randomUUID();
    const lifecycle = await receiver();
    const notifications = await receiver();
    const member = await stack.token({ user, groups: [team], scopes: "TeamsAsyncOperation.Read" });
    const subscription = await subscribed(
      {
        changeType: "created",
        resource: `me/joinedTeams/${team}/operations`,
        notificationUrl: notifications.url,
        lifecycleNotificationUrl: lifecycle.url,
        expirationDateTime: inMinutes(30),
      },
      member,
    );
    const former = await stack.token({ user, groups: [], scopes: "TeamsAsyncOperation.Read" });
    const refused = expectGraphError(await reauthorize(subscription.id, former), 403, "accessDenied");
    expect(refused.message).toContain("The subscription was removed.");
    await waitFor(() => events(lifecycle, subscription.id, "subscriptionRemoved").length > 0, "subscriptionRemoved");
    expectGraphError(await call(url(`/subscriptions/${subscription.id}`), { token: member }), 404, "itemNotFound");
  });
});

describe("subscriptionRemoved", () => {
  it("when a renewal shows the creator has left the team: removed, 403, and nothing delivered after", async () => {
    const team = randomUUID();
    const user = randomUUID();
    const lifecycle = await receiver();
    const notifications = await receiver();
    const witness = await receiver();
    const member = await stack.token({ user, groups: [team], scopes: "TeamsAsyncOperation.Read" });
    const body = { changeType: "created", resource: `me/joinedTeams/${team}/operations` };
    const subscription = await subscribed(
      {
        ...body,
        notificationUrl: notifications.url,
        lifecycleNotificationUrl: lifecycle.url,
        expirationDateTime: inMinutes(30),
        clientState: "state-member",
      },
      member,
    );
    await subscribed({
      changeType: "created",
      resource: `teams/${team}/operations`,
      notificationUrl: witness.url,
      expirationDateTime: inMinutes(30),
    });

    // A token that cannot say (no read permission) removes nothing.
    const unscoped = await stack.token({ user, groups: [], scopes: "Something.Else" });
    expectGraphError(await renew(subscription.id, inMinutes(40), unscoped), 403, "accessDenied");
    expect((await call(url(`/subscriptions/${subscription.id}`), { token: member })).status).toBe(200);

    const former = await stack.token({ user, groups: [], scopes: "TeamsAsyncOperation.Read" });
    const refused = expectGraphError(await renew(subscription.id, inMinutes(40), former), 403, "accessDenied");
    expect(refused.message).toContain("The subscription was removed.");
    const [removed] = await waitFor(
      () =>
        events(lifecycle, subscription.id, "subscriptionRemoved").length
          ? events(lifecycle, subscription.id, "subscriptionRemoved")
          : undefined,
      "subscriptionRemoved",
    );
    expect(removed).toEqual({
      subscriptionId: subscription.id,
      subscriptionExpirationDateTime: subscription.expirationDateTime,
      tenantId: DEV_TENANT_ID,
      clientState: "state-member",
      lifecycleEvent: "subscriptionRemoved",
    });
    expectGraphError(await call(url(`/subscriptions/${subscription.id}`), { token: member }), 404, "itemNotFound");
    const { resource: quota } = await subscriptions.item("tenantQuota", DEV_TENANT_ID).read();
    expect(quota.slots.map((s: { id: string }) => s.id)).not.toContain(subscription.id);

    const created = await call(url(`/teams/${team}/operations`), {
      method: "POST",
      token: app,
      body: { operationType: "cloneTeam" },
    });
    expect(created.status).toBe(201);
    await waitFor(() => witness.acknowledged.some((n) => n.resourceData.id === created.json.id), "the witness");
    expect(notifications.received).toEqual([]);
  });

  it("for every subscription of a tenant the API no longer accepts, after a restart with a narrower AUTH_TENANTS", async () => {
    const theirs = await receiver();
    const mine = await receiver();
    const otherTenant = await stack.token({ app: true, tenant: OTHER_TENANT });
    const body = {
      changeType: "created",
      resource: `teams/${randomUUID()}/operations`,
      expirationDateTime: inMinutes(30),
    };
    const removedOne = await subscribed(
      { ...body, notificationUrl: theirs.url, lifecycleNotificationUrl: theirs.url, clientState: "theirs" },
      otherTenant,
    );
    const kept = await subscribed({ ...body, notificationUrl: mine.url, lifecycleNotificationUrl: mine.url });

    await stack.restart({ AUTH_TENANTS: DEV_TENANT_ID });
    const [removed] = await waitFor(
      () =>
        events(theirs, removedOne.id, "subscriptionRemoved").length
          ? events(theirs, removedOne.id, "subscriptionRemoved")
          : undefined,
      "subscriptionRemoved",
    );
    expect(removed).toEqual({
      subscriptionId: removedOne.id,
      subscriptionExpirationDateTime: removedOne.expirationDateTime,
      tenantId: OTHER_TENANT,
      clientState: "theirs",
      lifecycleEvent: "subscriptionRemoved",
    });
    const stored = (await subscriptions.items.readAll<Record<string, unknown>>().fetchAll()).resources;
    expect(stored.map((d) => d.id)).not.toContain(removedOne.id);
    expect((await call(url(`/subscriptions/${kept.id}`), { token: app })).status).toBe(200);
    expect(mine.received.filter((n) => n.lifecycleEvent === "subscriptionRemoved")).toEqual([]);
  });
});
