/**
 * Delegated subscriptions without a lifecycleNotificationUrl last at most an hour (Graph's rule for Teams resources),
 * through the local runner over real HTTP: asked for longer, created or renewed, they are refused in Graph's words; one
 * stored before the rule ends an hour after its creation or last renewal, and is sent nothing after. An application's,
 * or one with a lifecycle URL (renewed with a token that is checked again), may live longer.
 */
import { randomUUID } from "node:crypto";
import type { Container } from "@azure/cosmos";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_TENANT_ID } from "../../local/devIdentity.js";
import { call, expectGraphError } from "../support/http.js";
import { waitFor } from "../support/receiver.js";
import { inMinutes, receiverPool, subscriptionCalls } from "../support/subscriptionCalls.js";
import { startStack, type Stack } from "../support/stack.js";

let stack: Stack;
let app: string;
let subscriptions: Container;
const receivers = receiverPool();
const { subscribe, subscribed, renew } = subscriptionCalls(
  () => stack.baseUrl,
  () => app,
);

const GRAPH_SAYS =
  "lifecycleNotificationUrl is a required property for subscription creation on this resource when the expirationDateTime value is set to greater than 1 hour.";

beforeAll(async () => {
  stack = await startStack({
    env: { SUBSCRIPTION_ALLOW_LOOPBACK: "true", SUBSCRIPTION_VALIDATION_TIMEOUT_SECONDS: "2" },
  });
  app = await stack.token({ app: true });
  subscriptions = stack.container.database.container("subscriptions");
});
afterAll(async () => {
  await stack?.stop();
  await receivers.close();
});

describe("a delegated subscription without a lifecycleNotificationUrl", () => {
  it("is refused in Graph's words when asked to last more than an hour, created or renewed", async () => {
    const team = randomUUID();
    const member = await stack.token({ user: randomUUID(), groups: [team], scopes: "TeamsAsyncOperation.Read" });
    const r = await receivers.start();
    const body = { changeType: "created", notificationUrl: r.url, resource: `teams/${team}/operations` };

    const refused = expectGraphError(
      await subscribe({ ...body, expirationDateTime: inMinutes(120) }, member),
      400,
      "invalidRequest",
    );
    expect(refused.details).toContainEqual(
      expect.objectContaining({ target: "lifecycleNotificationUrl", message: GRAPH_SAYS }),
    );

    const subscription = await subscribed({ ...body, expirationDateTime: inMinutes(59) }, member);
    const renewal = expectGraphError(await renew(subscription.id, inMinutes(120), member), 400, "invalidRequest");
    expect(renewal.details[0]).toMatchObject({ target: "lifecycleNotificationUrl" });
    expect((await renew(subscription.id, inMinutes(55), member)).status).toBe(200);
  });

  it("may last longer with a lifecycleNotificationUrl, or when an application's", async () => {
    const team = randomUUID();
    const member = await stack.token({ user: randomUUID(), groups: [team], scopes: "TeamsAsyncOperation.Read" });
    const r = await receivers.start();
    const body = { changeType: "created", notificationUrl: r.url, resource: `teams/${team}/operations` };
    const withLifecycle = await subscribed(
      { ...body, lifecycleNotificationUrl: r.url, expirationDateTime: inMinutes(600) },
      member,
    );
    expect((await renew(withLifecycle.id, inMinutes(1200), member)).status).toBe(200);
    await subscribed({ ...body, expirationDateTime: inMinutes(600) });
  });

  it("stored before the rule, ends an hour after its creation: gone, and sent nothing", async () => {
    const team = randomUUID();
    const user = randomUUID();
    const member = await stack.token({ user, groups: [team], scopes: "TeamsAsyncOperation.Read" });
    const legacy = await receivers.start();
    const witness = await receivers.start();
    const id = randomUUID();
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000).toISOString().replace("Z", "0000Z");
    await subscriptions.items.create({
      id,
      resourceKey: `${DEV_TENANT_ID}:${team}`,
      tenantId: DEV_TENANT_ID,
      teamId: team,
      operationId: null,
      resource: `teams/${team}/operations`,
      teamPath: "teams",
      changeTypes: ["created"],
      notificationUrl: legacy.url,
      lifecycleNotificationUrl: null,
      clientState: null,
      expirationDateTime: new Date(Date.now() + 24 * 3_600_000).toISOString().replace("Z", "0000Z"),
      createdDateTime: twoHoursAgo,
      creator: { kind: "user", id: user },
      applicationId: null,
      latestSupportedTlsVersion: "v1_2",
      ttl: 86_400,
    });
    await subscribed({
      changeType: "created",
      notificationUrl: witness.url,
      resource: `teams/${team}/operations`,
      expirationDateTime: inMinutes(30),
    });
    expectGraphError(await call(`${stack.baseUrl}/subscriptions/${id}`, { token: member }), 404, "itemNotFound");

    const created = await call(`${stack.baseUrl}/teams/${team}/operations`, {
      method: "POST",
      token: app,
      body: { operationType: "cloneTeam" },
    });
    expect(created.status).toBe(201);
    await waitFor(() => witness.acknowledged.some((n) => n.resourceData.id === created.json.id), "the witness");
    expect(legacy.received).toEqual([]);
  });
});
