/**
 * Application Insights telemetry: custom events, store metrics and
 * exceptions. Events and exceptions carry the request's correlation
 * properties and the invocation's trace (operation_Id, as the Functions host's
 * request telemetry); metrics carry only dimensions with a bounded set of
 * values, since every combination of them is a series of its own. Started once
 * from the entry file, and only when APPLICATIONINSIGHTS_CONNECTION_STRING is
 * set: otherwise the pipeline is not even loaded, every call here is a no-op
 * and nothing is sent. In Azure, ingestion authenticates with the managed
 * identity that APPLICATIONINSIGHTS_AUTHENTICATION_STRING names.
 *
 * What we report is explicit (`track*` below) rather than automatic
 * instrumentation, which patches modules loaded through `require` and so would
 * see little of an ESM bundle; the Functions host records the requests.
 *
 * What is recorded is ids, codes and property names: never a payload, a
 * token, a user name or an email address.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { PreInvocationContext } from "@azure/functions";
import type { TokenCredential } from "@azure/identity";
import { readSetting } from "./config.js";
import { managedIdentityCredential, parseIngestionAuthentication } from "./identity.js";
import type { TelemetryPipeline } from "./telemetryPipeline.js";

export type Trigger = "HTTP" | "queue" | "timer" | "changeFeed";

/**
 * The names of what the app sends besides its requests, as queries, alerts and the workbook know them
 * (infra/queries/*.kql, infra/modules/monitoring-*.bicep; test/infra/monitoring.test.ts holds them together).
 */
export const TELEMETRY = {
  events: {
    operationCreated: "OperationCreated",
    operationStatusChanged: "OperationStatusChanged",
    operationRejected: "OperationRejected",
    messagePoisoned: "MessagePoisoned",
    changeFeedDeadLettered: "ChangeFeedDeadLettered",
    batchRequestCompleted: "BatchRequestCompleted",
  },
  metrics: {
    storeRequestCharge: "StoreRequestCharge",
    storeLatencyMs: "StoreLatencyMs",
    queueDepth: "QueueDepth",
    changeFeedLagSeconds: "ChangeFeedLagSeconds",
  },
  /** The exception type of a change-feed batch neither processed nor dead-lettered. */
  changeFeedBatchLost: "ChangeFeedBatchLost",
} as const;

/** What one store call cost and what the store said: reported to telemetry, never to the caller. */
export interface StoreCall {
  readonly operation: "create" | "read" | "replace" | "delete" | "query" | "count" | "ping";
  readonly requestCharge: number;
  readonly durationMs: number;
  readonly statusCode: number | undefined;
  /** When it started, epoch milliseconds (the dependency's start); now less its duration when not given. */
  readonly startTime?: number;
  /** Cosmos DB's substatus (3200: throttled by RU, 21008: the partition is moving ...) and its activity id. */
  readonly subStatusCode?: number;
  readonly activityId?: string;
}

/** A call to a storage queue: a message sent, or the queue's properties read. */
export interface QueueCall {
  /** The queue's URL (its query, which could hold a SAS, is never recorded). */
  readonly url: string;
  readonly operation: "send" | "properties";
  readonly startTime: number;
  readonly durationMs: number;
  /** Storage's HTTP status; undefined when no answer came. */
  readonly statusCode: number | undefined;
}

/** A POST to a subscriber's endpoint: the validation handshake, a batch of notifications, or a lifecycle one. */
export interface WebhookCall {
  readonly url: string;
  readonly purpose: "validation" | "notification" | "lifecycle";
  readonly startTime: number;
  readonly durationMs: number;
  /** The receiver's status; undefined when no answer came (refused, timed out, the network failed). */
  readonly statusCode: number | undefined;
  /** Why there was no answer. */
  readonly failure?: string;
}

/** The correlation properties of one invocation; handlers fill in what they learn (team, operation). */
export interface TelemetryScope {
  readonly requestId: string;
  readonly clientRequestId?: string;
  readonly trigger: Trigger;
  teamId?: string;
  operationId?: string;
}

/**
 * The cloud role (ai.cloud.role) of everything the app sends: the function app's name, as the host's own request
 * telemetry has it, so both meet in the application map; outside Azure, the app's name.
 */
export function cloudRole(env: Readonly<Record<string, string | undefined>>): string {
  return env.WEBSITE_SITE_NAME?.trim() || "team-operations-api";
}

/** What telemetry knows of the running invocation: the host's W3C traceparent, and its correlation properties. */
interface InvocationTelemetry {
  readonly traceParent: string | undefined;
  scope: TelemetryScope | undefined;
}

// One AsyncLocalStorage for both: each one in use costs every promise the process creates a hook.
const invocations = new AsyncLocalStorage<InvocationTelemetry>();
let pipeline: TelemetryPipeline | undefined;
/** The store's host and database, which every store call's dependency names (the application map's node). */
let store = { host: "", database: "" };

/**
 * A credential that loads `@azure/identity` when ingestion first asks for a token (the first export, after the
 * first request), not at a cold start; the credential behind it is the one per identity that Cosmos DB uses too.
 */
function deferredCredential(clientId: string | undefined): TokenCredential {
  return { getToken: async (scopes, options) => (await managedIdentityCredential(clientId)).getToken(scopes, options) };
}

/** Starts the pipeline when a connection string is configured; resolves to whether it did. */
export async function startTelemetry(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<boolean> {
  const connectionString = readSetting(env, "APPLICATIONINSIGHTS_CONNECTION_STRING");
  if (pipeline || !connectionString) return pipeline !== undefined;
  // Refused before anything loads: a malformed authentication string would otherwise lose every envelope.
  const authentication = parseIngestionAuthentication(readSetting(env, "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"));
  const { startPipeline } = await import("./telemetryPipeline.js");
  store = { host: hostOf(env.COSMOS_ENDPOINT ?? ""), database: readSetting(env, "COSMOS_DATABASE") };
  pipeline = startPipeline({
    connectionString,
    // Without it, ingestion with local auth off refuses every envelope.
    credential: authentication.aad
      ? deferredCredential(authentication.clientId ?? readSetting(env, "AZURE_CLIENT_ID"))
      : undefined,
    serviceName: cloudRole(env),
  });
  // An exception nothing caught is reported (and sent at once: the process may be about to end) without changing
  // what happens next; the host's worker decides that.
  process.on("uncaughtExceptionMonitor", (error) => {
    trackException(error);
    void flushTelemetry().catch(() => undefined);
  });
  return true;
}

/** Sends what is buffered; called on shutdown. */
export async function flushTelemetry(): Promise<void> {
  await pipeline?.flush();
}

/**
 * A `preInvocation` hook: runs every invocation within the trace context the host gave it, so that what it
 * reports joins the host's request (or trigger) telemetry under one operation_Id.
 */
export function continueInvocationTrace(context: PreInvocationContext): void {
  const traceParent = context.invocationContext.traceContext?.traceParent;
  if (!pipeline || !traceParent) return;
  const handler = context.functionHandler;
  context.functionHandler = (input, invocation): unknown =>
    invocations.run({ traceParent, scope: undefined }, (): unknown => handler(input, invocation));
}

/** Runs an invocation with its correlation properties in scope. */
export function withTelemetryScope<T>(scope: TelemetryScope, run: () => Promise<T>): Promise<T> {
  // Without telemetry there is nothing to correlate, and an AsyncLocalStorage in use costs every promise a hook.
  if (!pipeline) return run();
  // Within an invocation the hook above already runs in its own store: the scope joins it.
  const invocation = invocations.getStore();
  if (invocation && invocation.scope === undefined) {
    invocation.scope = scope;
    return run();
  }
  return invocations.run({ traceParent: invocation?.traceParent, scope }, run);
}

/** The scope of the running invocation, to record what it learns (team, operation id); none without telemetry. */
export function telemetryScope(): TelemetryScope | undefined {
  return invocations.getStore()?.scope;
}

function traceParent(): string | undefined {
  return invocations.getStore()?.traceParent;
}

/** The correlation properties of an event or exception: the request's ids, its team and operation when known. */
function properties(extra: Record<string, string> = {}): Record<string, string> {
  const scope = telemetryScope();
  const all: Record<string, string> = {};
  if (scope) {
    all["request-id"] = scope.requestId;
    if (scope.clientRequestId !== undefined) all["client-request-id"] = scope.clientRequestId;
    all.trigger = scope.trigger;
    if (scope.teamId !== undefined) all.teamId = scope.teamId;
    if (scope.operationId !== undefined) all.operationId = scope.operationId;
  }
  return Object.assign(all, extra);
}

export function trackOperationCreated(operationType: string, status: string): void {
  pipeline?.event(TELEMETRY.events.operationCreated, properties({ operationType, status }), traceParent());
}

export function trackStatusChanged(from: string, to: string): void {
  if (from === to) return;
  pipeline?.event(TELEMETRY.events.operationStatusChanged, properties({ from, to }), traceParent());
}

/** A rejected request: the reason code and the offending property names, never the payload. */
export function trackRejected(status: number, reasonCode: string, targets: readonly string[]): void {
  pipeline?.event(
    TELEMETRY.events.operationRejected,
    properties({ status: String(status), reasonCode, targets: targets.join(",") }),
    traceParent(),
  );
}

/** A queue message moved to its poison queue by the app, with the code of its reason. */
export function trackMessagePoisoned(queue: string, reasonCode: string): void {
  pipeline?.event(TELEMETRY.events.messagePoisoned, properties({ queue, reasonCode }), traceParent());
}

/** A change-feed batch that failed its last retry and was written to a poison queue instead. */
export function trackChangeFeedDeadLettered(consumer: string, documents: number, queue: string): void {
  pipeline?.event(
    TELEMETRY.events.changeFeedDeadLettered,
    properties({ consumer, documents: String(documents), queue }),
    traceParent(),
  );
}

/** What one request of a JSON batch was and how it ended (the host records the batch, not what it holds). */
export interface BatchRequestRecord {
  /** The id the client gave it in the batch. */
  readonly batchItemId: string;
  /** The request id its answer carries (its own invocation's, unless it was never run). */
  readonly itemRequestId: string;
  readonly method: string;
  /** The function whose handler answered it (`fallback` for key syntax and unknown paths), or `batch` if none ran. */
  readonly functionName: string;
  readonly status: number;
  readonly durationMs: number;
}

/** One request of a JSON batch, under the batch's own request id. */
export function trackBatchRequest(record: BatchRequestRecord): void {
  pipeline?.event(
    TELEMETRY.events.batchRequestCompleted,
    properties({
      batchItemId: record.batchItemId.slice(0, 128),
      itemRequestId: record.itemRequestId,
      method: record.method,
      functionName: record.functionName,
      status: String(record.status),
      durationMs: record.durationMs.toFixed(1),
    }),
    traceParent(),
  );
}

/** The approximate number of messages in a queue, by queue name (a handful of queues: a bounded dimension). */
export function trackQueueDepth(queue: string, depth: number): void {
  pipeline?.metric(TELEMETRY.metrics.queueDepth, depth, { queue });
}

/** How old the oldest change of a change-feed batch was when its function ran, by function. */
export function trackChangeFeedLag(consumer: string, seconds: number): void {
  pipeline?.metric(TELEMETRY.metrics.changeFeedLagSeconds, seconds, { consumer });
}

/**
 * Reports an exception with the request's correlation properties and what its causes said (`cause.*`: for a store
 * fault, Cosmos DB's status, substatus, activity id and request charge), its stack followed by each cause's.
 */
export function trackException(error: unknown): void {
  if (!pipeline) return;
  const exception = error instanceof Error ? error : new Error(String(error));
  const causes = causesOf(exception);
  const extra: Record<string, string> = {};
  causes.forEach((cause, i) => {
    const prefix = i === 0 ? "cause" : `cause${i + 1}`;
    for (const [key, value] of Object.entries(cause))
      if (value !== undefined) extra[`${prefix}.${key}`] = String(value);
  });
  // The stack as reported: the error's own, then each cause's, as Java and .NET print a chain.
  const reported = new Error(exception.message);
  reported.name = exception.name;
  reported.stack = [
    exception.stack,
    ...chainOf(exception).map((c) => `Caused by: ${c.stack ?? `${c.name}: ${c.message}`}`),
  ]
    .filter(Boolean)
    .join("\n");
  pipeline.exception(reported, properties(extra), traceParent());
}

/** What one cause of an error says: its type and message, and the diagnostics a service put on it. */
export interface CauseDetails {
  readonly type: string;
  readonly message: string;
  readonly statusCode?: number;
  readonly subStatusCode?: number;
  readonly activityId?: string;
  readonly requestCharge?: number;
  readonly retryAfterMs?: number;
}

/** The causes of an error, nearest first (at most five). */
function chainOf(error: Error): Error[] {
  const chain: Error[] = [];
  let cause = (error as { cause?: unknown }).cause;
  while (cause instanceof Error && chain.length < 5 && !chain.includes(cause)) {
    chain.push(cause);
    cause = (cause as { cause?: unknown }).cause;
  }
  return chain;
}

const numberOf = (value: unknown) => {
  const n = typeof value === "number" ? value : typeof value === "string" && value !== "" ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

/**
 * What each cause of an error says, read from the fields the Azure SDKs put on their errors (`code` or
 * `statusCode`, `substatus`, `activityId`, `retryAfterInMs`, the `x-ms-*` response headers): the store fault behind a
 * 503 says what Cosmos DB answered. Messages are cut to 500 characters.
 */
export function causesOf(error: unknown): CauseDetails[] {
  if (!(error instanceof Error)) return [];
  return chainOf(error).map((cause) => {
    const c = cause as Error & Record<string, unknown>;
    const headers = (c.headers ?? {}) as Record<string, unknown>;
    const activityId = c.activityId ?? headers["x-ms-activity-id"];
    return {
      type: c.name,
      message: c.message.slice(0, 500),
      statusCode: numberOf(c.code) ?? numberOf(c.statusCode),
      subStatusCode: numberOf(c.substatus) ?? numberOf(headers["x-ms-substatus"]),
      activityId: typeof activityId === "string" ? activityId : undefined,
      requestCharge: numberOf(headers["x-ms-request-charge"]),
      retryAfterMs: numberOf(c.retryAfterInMs) ?? numberOf(headers["x-ms-retry-after-ms"]),
    };
  });
}

/** An error and its causes in one line, for a log. */
export function describeError(error: unknown): string {
  const causes = describeCauses(error);
  return causes ? `${String(error)}; ${causes}` : String(error);
}

/** The causes of an error in one line, for a log: `caused by ErrorResponse (status 503, substatus 21008, ...): ...`. */
export function describeCauses(error: unknown): string {
  let said = error instanceof Error ? error.message : "";
  const lines: string[] = [];
  for (const c of causesOf(error)) {
    const facts = [
      c.statusCode !== undefined ? `status ${c.statusCode}` : undefined,
      c.subStatusCode !== undefined ? `substatus ${c.subStatusCode}` : undefined,
      c.activityId !== undefined ? `activity id ${c.activityId}` : undefined,
      c.requestCharge !== undefined ? `${c.requestCharge} RU` : undefined,
      c.retryAfterMs !== undefined ? `retry after ${c.retryAfterMs} ms` : undefined,
    ].filter(Boolean);
    // A cause that only repeats what its effect said (a Graph error made from a store fault) adds nothing.
    if (facts.length === 0 && c.message === said) continue;
    said = c.message;
    lines.push(`caused by ${c.type}${facts.length ? ` (${facts.join(", ")})` : ""}: ${c.message.split(/\r?\n/)[0]}`);
  }
  return lines.join("; ");
}

/**
 * Request charge (RU) and latency of one Cosmos DB call, by call, status and trigger only: a request id, team or
 * operation id as a dimension would open a metric series per request (the events carry those).
 */
export function trackStoreCall(call: StoreCall): void {
  if (!pipeline) return;
  const dimensions = {
    storeOperation: call.operation,
    statusCode: String(call.statusCode ?? ""),
    trigger: telemetryScope()?.trigger ?? "",
  };
  pipeline.metric(TELEMETRY.metrics.storeRequestCharge, call.requestCharge, dimensions);
  pipeline.metric(TELEMETRY.metrics.storeLatencyMs, call.durationMs, dimensions);
  // The call as a dependency: OpenTelemetry's database conventions, and what Cosmos DB said of it.
  const status = call.statusCode;
  pipeline.dependency(
    {
      name: `${call.operation} ${store.database}`,
      kind: "client",
      startTime: call.startTime ?? Date.now() - call.durationMs,
      durationMs: call.durationMs,
      success: status !== undefined && (status < 400 || EXPECTED_STORE_ANSWERS.has(status)),
      attributes: {
        "db.system.name": "azure.cosmosdb",
        "db.namespace": store.database,
        "db.operation.name": call.operation,
        "server.address": store.host,
        "db.response.status_code": status === undefined ? undefined : String(status),
        "azure.cosmosdb.response.sub_status_code": call.subStatusCode,
        "azure.cosmosdb.operation.request_charge": call.requestCharge,
        "azure.cosmosdb.activity_id": call.activityId,
      },
    },
    traceParent(),
  );
}

/** Store answers that are outcomes, not failures: not found, taken, changed since (each has its meaning above). */
const EXPECTED_STORE_ANSWERS = new Set([404, 409, 412]);

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
}

/** The URL of a call, without its query (a SAS or a token could be in it) and without credentials. */
function recordedUrl(url: string): { url: string; host: string; path: string } {
  try {
    const parsed = new URL(url);
    return { url: `${parsed.origin}${parsed.pathname}`, host: parsed.hostname, path: parsed.pathname };
  } catch {
    return { url: "", host: "", path: "" };
  }
}

/** A call to a storage queue, as a dependency (an HTTP call to the account's queue endpoint). */
export function trackQueueCall(call: QueueCall): void {
  if (!pipeline) return;
  const queue = recordedUrl(call.url);
  const send = call.operation === "send";
  pipeline.dependency(
    {
      name: send ? `send ${queue.path}` : `properties ${queue.path}`,
      kind: send ? "producer" : "client",
      startTime: call.startTime,
      durationMs: call.durationMs,
      success: call.statusCode !== undefined && call.statusCode < 400,
      attributes: {
        "http.request.method": send ? "POST" : "GET",
        "url.full": send ? `${queue.url}/messages` : queue.url,
        "server.address": queue.host,
        "http.response.status_code": call.statusCode,
        "messaging.system": "azure_storage_queue",
        "messaging.destination.name": queue.path.split("/").filter(Boolean).at(-1),
      },
    },
    traceParent(),
  );
}

/** A POST to a subscriber's endpoint, as a dependency; the `webhook` property says which kind. */
export function trackWebhookCall(call: WebhookCall): void {
  if (!pipeline) return;
  const target = recordedUrl(call.url);
  pipeline.dependency(
    {
      name: `POST ${target.path}`,
      kind: "client",
      startTime: call.startTime,
      durationMs: call.durationMs,
      success: call.statusCode !== undefined && call.statusCode >= 200 && call.statusCode < 300,
      attributes: {
        "http.request.method": "POST",
        "url.full": target.url,
        "server.address": target.host,
        "http.response.status_code": call.statusCode,
        "error.type": call.failure,
        webhook: call.purpose,
      },
    },
    traceParent(),
  );
}
