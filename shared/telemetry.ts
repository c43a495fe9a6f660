/**
 * Application Insights telemetry: custom events, store metrics and
 * exceptions, each carrying the request's correlation properties. Started
 * once from the entry file, and only when APPLICATIONINSIGHTS_CONNECTION_STRING
 * is set: otherwise the SDK is not even loaded, every call here is a no-op and
 * nothing is sent. In Azure, ingestion authenticates with the managed
 * identity that APPLICATIONINSIGHTS_AUTHENTICATION_STRING names.
 *
 * What we report is explicit (`track*` below) rather than left to the SDK's
 * automatic instrumentation: that patches modules loaded through `require`,
 * and the app is ESM and ships as one bundle, so it would see little of it.
 * The Functions host records the requests themselves.
 *
 * What is recorded is ids, codes and property names: never a payload, a
 * token, a user name or an email address.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { TelemetryClient } from "applicationinsights";
import { managedIdentityCredential, parseIngestionAuthentication } from "./identity.js";

export type Trigger = "HTTP" | "queue" | "timer";

/** What one store call cost: reported to telemetry, never to the caller. */
export interface StoreCall {
  readonly operation: "create" | "read" | "replace" | "delete" | "query" | "count" | "ping";
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

const scopes = new AsyncLocalStorage<TelemetryScope>();
let client: TelemetryClient | undefined;

/** Starts the SDK when a connection string is configured; resolves to whether it did. */
export async function startTelemetry(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<boolean> {
  if (client || !env.APPLICATIONINSIGHTS_CONNECTION_STRING) return client !== undefined;
  // Refused before anything loads: a malformed authentication string would otherwise lose every envelope.
  const authentication = parseIngestionAuthentication(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING);
  // Loaded only when configured (the bundle keeps it in a chunk of its own): it is large, and a run without it
  // should not pay for it.
  const { default: appInsights } = await import("applicationinsights");
  appInsights
    .setup(env.APPLICATIONINSIGHTS_CONNECTION_STRING)
    // The Functions host already records requests; ours would be duplicates.
    .setAutoCollectRequests(false)
    .setAutoCollectConsole(false)
    .setAutoCollectPerformance(false, false)
    .setAutoCollectExceptions(true)
    .setAutoCollectDependencies(true)
    .setSendLiveMetrics(false)
    .setUseDiskRetryCaching(false);
  // The SDK reads its credential only when it starts, and only from its configuration (the
  // APPLICATIONINSIGHTS_AUTHENTICATION_STRING variable is honoured by its auto-attach agent alone): without this,
  // ingestion with local auth off refuses every envelope.
  if (authentication.aad) {
    appInsights.defaultClient.config.aadTokenCredential = await managedIdentityCredential(
      authentication.clientId ?? env.AZURE_CLIENT_ID,
    );
  }
  appInsights.start();
  client = appInsights.defaultClient;
  return true;
}

/** Sends what is buffered; called on shutdown. */
export async function flushTelemetry(): Promise<void> {
  await client?.flush();
}

/** Runs an invocation with its correlation properties in scope. */
export function withTelemetryScope<T>(scope: TelemetryScope, run: () => Promise<T>): Promise<T> {
  // Without telemetry there is nothing to correlate, and an AsyncLocalStorage in use costs every promise a hook.
  return client ? scopes.run(scope, run) : run();
}

/** The scope of the running invocation, to record what it learns (team, operation id); none without telemetry. */
export function telemetryScope(): TelemetryScope | undefined {
  return scopes.getStore();
}

function properties(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const scope = scopes.getStore();
  const all: Record<string, string | undefined> = {
    "request-id": scope?.requestId,
    "client-request-id": scope?.clientRequestId,
    trigger: scope?.trigger,
    teamId: scope?.teamId,
    operationId: scope?.operationId,
    ...extra,
  };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

export function trackOperationCreated(operationType: string, status: string): void {
  client?.trackEvent({ name: "OperationCreated", properties: properties({ operationType, status }) });
}

export function trackStatusChanged(from: string, to: string): void {
  if (from === to) return;
  client?.trackEvent({ name: "OperationStatusChanged", properties: properties({ from, to }) });
}

/** A rejected request: the reason code and the offending property names, never the payload. */
export function trackRejected(status: number, reasonCode: string, targets: readonly string[]): void {
  client?.trackEvent({
    name: "OperationRejected",
    properties: properties({ status: String(status), reasonCode, targets: targets.join(",") }),
  });
}

export function trackException(error: unknown): void {
  client?.trackException({
    exception: error instanceof Error ? error : new Error(String(error)),
    properties: properties(),
  });
}

/** Request charge (RU) and latency of one Cosmos DB call. */
export function trackStoreCall(call: StoreCall): void {
  const extra = { storeOperation: call.operation, statusCode: String(call.statusCode ?? "") };
  client?.trackMetric({ name: "StoreRequestCharge", value: call.requestCharge, properties: properties(extra) });
  client?.trackMetric({ name: "StoreLatencyMs", value: call.durationMs, properties: properties(extra) });
}
