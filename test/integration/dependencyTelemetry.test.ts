/**
 * Dependency telemetry end to end: the local runner with its OpenTelemetry pipeline sends to the TLS ingestion
 * endpoint on loopback (test/support/ingestion.ts) every store call, queue call and webhook call as a dependency
 * under the invocation's trace, with what the application map draws (type, target) and what an operator follows (the
 * status, Cosmos DB's substatus, activity id and request charge); a store fault's cause reaches the log line and the
 * exception telemetry. The store is behind a fault proxy; the queues are Azurite's; the webhook is a loopback receiver.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzuriteQueue, type Azurite } from "../../local/azurite.js";
import { TELEMETRY } from "../../shared/telemetry.js";
import { startFaultProxy, type FaultProxy } from "../support/faultProxy.js";
import { call, TEAM } from "../support/http.js";
import {
  dependencies,
  exceptions,
  metricsNamed,
  startIngestion,
  type Envelope,
  type Ingestion,
} from "../support/ingestion.js";
import { waitFor } from "../support/receiver.js";
import { inMinutes, receiverPool, subscriptionCalls } from "../support/subscriptionCalls.js";
import { freePort, startStack, type Stack } from "../support/stack.js";

const TRACE_ID = randomBytes(16).toString("hex");
const TRACE_PARENT = `00-${TRACE_ID}-${randomBytes(8).toString("hex")}-01`;
const ACTIVITY_ID = randomUUID();

let ingestion: Ingestion;
let azurite: Azurite;
let proxy: FaultProxy;
let stack: Stack;
let token: string;
const receivers = receiverPool();
const { subscribed } = subscriptionCalls(
  () => stack.baseUrl,
  () => token,
);
const outcome: { created?: string; outage?: { status: number; requestId: string | null }; subscriptionTeam?: string } =
  {};

beforeAll(async () => {
  ingestion = await startIngestion();
  azurite = await startAzuriteQueue(await freePort());
  stack = await startStack({
    env: {
      ...ingestion.env(),
      LOCAL_QUEUES: "on",
      AzureWebJobsStorage: azurite.connectionString,
      SUBSCRIPTION_ALLOW_LOOPBACK: "true",
      // The sweeper's run, after which every queue's depth is reported, every 2 seconds.
      SWEEPER_SCHEDULE: "*/2 * * * * *",
    },
    cosmosEndpointFor: async (endpoint) => {
      proxy = await startFaultProxy(endpoint);
      return proxy.endpoint;
    },
  });
  token = await stack.token({ app: true });

  // A create under the caller's trace; it finishes, so its completion event is sent to the events queue.
  const created = await call(`${stack.baseUrl}/teams/${TEAM}/operations`, {
    method: "POST",
    token,
    body: { operationType: "cloneTeam", status: "succeeded" },
    headers: { traceparent: TRACE_PARENT },
  });
  expect(created.status, created.text).toBe(201);
  outcome.created = created.json.id;

  // A subscriber: the validation handshake, then a notification for a new operation of its team.
  const team = randomUUID();
  outcome.subscriptionTeam = team;
  const receiver = await receivers.start();
  await subscribed({
    changeType: "created",
    notificationUrl: receiver.url,
    resource: `teams/${team}/operations`,
    expirationDateTime: inMinutes(30),
  });
  const other = await call(`${stack.baseUrl}/teams/${team}/operations`, {
    method: "POST",
    token,
    body: { operationType: "archiveTeam" },
  });
  expect(other.status).toBe(201);
  await waitFor(() => (receiver.acknowledged.length > 0 ? true : undefined), "the notification");

  // The store down for a read, saying why as Cosmos DB does.
  proxy.inject(
    "read",
    {
      kind: "status",
      status: 503,
      headers: { "x-ms-substatus": "21008", "x-ms-activity-id": ACTIVITY_ID, "x-ms-request-charge": "1.5" },
    },
    20,
  );
  const outage = await call(`${stack.baseUrl}/teams/${TEAM}/operations/${outcome.created}`, { token });
  proxy.clear();
  outcome.outage = { status: outage.status, requestId: outage.headers.get("request-id") };

  await waitFor(() => (stack.output().includes("sweeper: examined") ? true : undefined), "a sweeper run", 10_000).catch(
    () => undefined,
  );
  await new Promise((r) => setTimeout(r, 2_500)); // another sweeper run and change-feed polls
  await stack.stop(); // a graceful shutdown flushes what the pipelines hold
}, 120_000);

afterAll(async () => {
  await receivers.close();
  await proxy?.close();
  await azurite?.close();
  await ingestion?.close();
});

const props = (e: Envelope) => e.data!.baseData!.properties ?? {};

describe("dependencies", () => {
  it("records each store call as an azure.cosmosdb dependency of the store's host and database, under the caller's trace", () => {
    const create = dependencies(ingestion.envelopes).find(
      (d) => d.data!.baseData!.type === "azure.cosmosdb" && d.tags?.["ai.operation.id"] === TRACE_ID,
    );
    expect(create, JSON.stringify(dependencies(ingestion.envelopes).map((d) => d.data!.baseData!.name))).toBeDefined();
    expect(create!.data!.baseData).toMatchObject({
      name: "create teamops",
      target: "127.0.0.1|teamops",
      success: true,
    });
    expect(props(create!)).toMatchObject({
      "db.response.status_code": "201",
      "azure.cosmosdb.operation.request_charge": "1",
    });
    // Its parent is the invocation's span, which the host continues from the caller's.
    expect(create!.tags?.["ai.operation.parentId"]).toMatch(/^[0-9a-f]{16}$/);
    expect(create!.tags?.["ai.cloud.role"]).toBe("team-operations-api");
  });

  it("records a store fault with Cosmos DB's status, substatus, activity id and request charge", () => {
    const failed = dependencies(ingestion.envelopes).filter(
      (d) => d.data!.baseData!.type === "azure.cosmosdb" && props(d)["azure.cosmosdb.activity_id"] === ACTIVITY_ID,
    );
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.data!.baseData).toMatchObject({ name: "read teamops", success: false });
    expect(props(failed[0]!)).toMatchObject({
      "db.response.status_code": "503",
      "azure.cosmosdb.response.sub_status_code": "21008",
      "azure.cosmosdb.operation.request_charge": "1.5",
    });
  });

  it("records each queue call (completion events, queue depths) as a call to the queue endpoint", () => {
    const queueCalls = dependencies(ingestion.envelopes).filter(
      (d) => props(d)["messaging.system"] === "azure_storage_queue",
    );
    // (Azurite starts empty: the first send finds no queue, 404, and the queue is created.)
    const sends = queueCalls.filter(
      (d) => props(d)["messaging.destination.name"] === "operation-events" && d.data!.baseData!.success,
    );
    expect(sends.length).toBeGreaterThan(0);
    expect(sends[0]!.data!.baseData).toMatchObject({
      type: "Http",
      name: "POST /devstoreaccount1/operation-events/messages",
      target: "127.0.0.1",
      resultCode: "201",
      success: true,
    });
    expect(queueCalls.some((d) => d.data!.baseData!.name === "GET /devstoreaccount1/operations-inbox-poison")).toBe(
      true,
    );
  });

  it("records each webhook call with what it was for, its URL without the query", () => {
    const webhooks = dependencies(ingestion.envelopes).filter((d) => props(d).webhook !== undefined);
    const byPurpose = Object.fromEntries(webhooks.map((d) => [props(d).webhook, d]));
    expect(Object.keys(byPurpose).sort()).toEqual(["notification", "validation"]);
    for (const d of webhooks) {
      expect(d.data!.baseData).toMatchObject({ type: "Http", target: "127.0.0.1", success: true });
      expect(d.data!.baseData!.data).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/notify$/);
    }
    expect(JSON.stringify(webhooks)).not.toContain("validationToken");
  });
});

describe("a store fault's cause", () => {
  it("reaches the exception telemetry: what Cosmos DB said, behind the 503", () => {
    expect(outcome.outage!.status).toBe(503);
    const exception = exceptions(ingestion.envelopes).find((e) => props(e)["request-id"] === outcome.outage!.requestId);
    expect(exception).toBeDefined();
    expect(props(exception!)).toMatchObject({
      "cause.type": "UnavailableError",
      "cause2.statusCode": "503",
      "cause2.subStatusCode": "21008",
      "cause2.activityId": ACTIVITY_ID,
      "cause2.requestCharge": "1.5",
    });
  });

  it("reaches the log line of the 503", () => {
    expect(stack.output()).toMatch(
      new RegExp(
        `503 serviceNotAvailable: .*caused by .*\\(status 503, substatus 21008, activity id ${ACTIVITY_ID}, 1\\.5 RU\\)`,
      ),
    );
  });
});

describe("metrics of the backlog", () => {
  it("reports each queue's depth, and the change feeds' lag by function", () => {
    const depths = metricsNamed(ingestion.envelopes, TELEMETRY.metrics.queueDepth).map((m) => props(m).queue);
    expect(new Set(depths)).toEqual(
      new Set([
        "operations-inbox",
        "operations-inbox-poison",
        "operation-events",
        "operation-events-poison",
        "subscription-deliveries",
        "subscription-deliveries-poison",
      ]),
    );
    const lag = metricsNamed(ingestion.envelopes, TELEMETRY.metrics.changeFeedLagSeconds).map((m) => props(m).consumer);
    expect(new Set(lag)).toEqual(new Set(["publishCompletionEvents", "deliverNotifications"]));
  });
});
