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

/** What one store call cost: reported to telemetry, never to the caller. */
export interface StoreCall {
  readonly operation: "create" | "read" | "replace" | "query" | "count" | "ping";
  readonly requestCharge: number;
  readonly durationMs: number;
  readonly statusCode: number | undefined;
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
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING;
  if (pipeline || !connectionString) return pipeline !== undefined;
  // Refused before anything loads: a malformed authentication string would otherwise lose every envelope.
  const authentication = parseIngestionAuthentication(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING);
  const { startPipeline } = await import("./telemetryPipeline.js");
  pipeline = startPipeline({
    connectionString,
    // Without it, ingestion with local auth off refuses every envelope.
    credential: authentication.aad ? deferredCredential(authentication.clientId ?? env.AZURE_CLIENT_ID) : undefined,
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

/** The approximate number of messages in a queue, by queue name (a handful of queues: a bounded dimension). */
export function trackQueueDepth(queue: string, depth: number): void {
  pipeline?.metric(TELEMETRY.metrics.queueDepth, depth, { queue });
}

/** How old the oldest change of a change-feed batch was when its function ran, by function. */
export function trackChangeFeedLag(consumer: string, seconds: number): void {
  pipeline?.metric(TELEMETRY.metrics.changeFeedLagSeconds, seconds, { consumer });
}

export function trackException(error: unknown): void {
  pipeline?.exception(error instanceof Error ? error : new Error(String(error)), properties(), traceParent());
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
}
