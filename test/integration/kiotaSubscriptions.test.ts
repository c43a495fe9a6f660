/**
 * The Kiota-based Microsoft Graph SDK's `subscriptions` request builders
 * (`@microsoft/msgraph-sdk-subscriptions`), unchanged, with only the base URL
 * set: creating (after the validation handshake with a loopback receiver),
 * reading, listing, renewing, reauthorizing and deleting a subscription, a notification
 * arriving, and a refusal as the SDK's ODataError. Tokens go over https only,
 * so the runner sits behind a loopback TLS proxy.
 */
import { randomUUID } from "node:crypto";
import type { GraphServiceClient } from "@microsoft/msgraph-sdk";
import type { ODataError } from "@microsoft/msgraph-sdk/models/oDataErrors/index.js";
import "@microsoft/msgraph-sdk-subscriptions";
import "@microsoft/msgraph-sdk-teams";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphClient } from "../support/kiota.js";
import { startReceiver, waitFor, type Receiver } from "../support/receiver.js";
import { startStack, type Stack } from "../support/stack.js";
import { startTlsProxy, type TlsProxy } from "../support/tlsProxy.js";

let stack: Stack;
let proxy: TlsProxy;
let receiver: Receiver;
let graph: GraphServiceClient;

beforeAll(async () => {
  // The proxy's certificate is self-signed: trust without verification in this test process only.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  receiver = await startReceiver();
  proxy = await startTlsProxy();
  stack = await startStack({ env: { PUBLIC_BASE_URL: proxy.origin, SUBSCRIPTION_ALLOW_LOOPBACK: "true" } });
  proxy.target = new URL(stack.baseUrl).origin;
  graph = graphClient(proxy.origin, await stack.token({ app: true })).client;
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
  await receiver?.close();
});

describe("the Kiota SDK's subscriptions builders", () => {
  it("create, read, list, renew, reauthorize and delete a subscription; a notification arrives between", async () => {
    const team = randomUUID();
    const expiration = new Date(Date.now() + 60 * 60_000);
    const created = await graph.subscriptions.post({
      changeType: "created",
      notificationUrl: receiver.url,
      resource: `teams/${team}/operations`,
      expirationDateTime: expiration,
      clientState: "kiota-state",
    });
    expect(created?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created?.expirationDateTime?.getTime()).toBe(expiration.getTime());
    expect(created?.clientState).toBe("kiota-state");
    expect(receiver.validations).toHaveLength(1);
    const id = created!.id!;

    expect((await graph.subscriptions.bySubscriptionId(id).get())?.resource).toBe(`teams/${team}/operations`);
    expect((await graph.subscriptions.get())?.value?.map((s) => s.id)).toContain(id);

    const operation = await graph.teams.byTeamId(team).operations.post({ operationType: "cloneTeam" });
    await waitFor(
      () => receiver.acknowledged.some((n) => n.subscriptionId === id && n.resourceData.id === operation?.id),
      "the notification",
    );

    const later = new Date(Date.now() + 120 * 60_000);
    const renewed = await graph.subscriptions.bySubscriptionId(id).patch({ expirationDateTime: later });
    expect(renewed?.expirationDateTime?.getTime()).toBe(later.getTime());

    // Graph's answer to reauthorizationRequired without a new expiration: 204, nothing changed.
    await graph.subscriptions.bySubscriptionId(id).reauthorize.post();
    expect((await graph.subscriptions.bySubscriptionId(id).get())?.expirationDateTime?.getTime()).toBe(later.getTime());

    await graph.subscriptions.bySubscriptionId(id).delete();
    const error = (await graph.subscriptions
      .bySubscriptionId(id)
      .get()
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as ODataError;
    expect(error.responseStatusCode).toBe(404);
    expect(error.errorEscaped?.code).toBe("itemNotFound");
  });

  it("a refusal is the SDK's ODataError, naming the property", async () => {
    const error = (await graph.subscriptions
      .post({
        changeType: "created",
        notificationUrl: "https://169.254.169.254/latest/meta-data/",
        resource: `teams/${randomUUID()}/operations`,
        expirationDateTime: new Date(Date.now() + 60_000 * 10),
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as ODataError;
    expect(error.responseStatusCode).toBe(400);
    expect(error.errorEscaped?.code).toBe("invalidRequest");
    expect(error.errorEscaped?.details?.[0]?.target).toBe("notificationUrl");
    expect(error.errorEscaped?.details?.[0]?.message).toContain("link-local");
  });
});
