/**
 * `POST /v1.0/$batch`: Graph's JSON batching. Each inner request is handed,
 * as an `HttpRequest` with an `InvocationContext` of its own (the programming
 * model's own types, as the host would have built them), to the handler its
 * route registered with `app.http`, or to the catch-all's for key syntax and
 * unknown paths: the same pipeline as a request sent alone, so the token, the
 * permission, the team, If-Match, the body's limits and every error are
 * exactly the same. The batch itself needs a valid token, and its own answer
 * is 200 once it is read, whatever its requests answer.
 */
import { randomUUID } from "node:crypto";
// The default import: @azure/functions is CommonJS, whose classes Node.js's ESM loader cannot name as exports.
import functions, { type HttpResponseInit, type InvocationContext, type LogLevel } from "@azure/functions";
import {
  BATCH_BODY_NESTING,
  batchAnswer,
  innerRequest,
  MAX_BATCH_BODY_BYTES,
  parseBatch,
  runBatch,
  type BatchAnswer,
  type BatchItem,
} from "../http/batch.js";
import { graphError, notFound, notSupported, retryAfter } from "../http/graphError.js";
import { MAX_BODY_DEPTH } from "../http/jsonStructure.js";
import { withGraphErrors, type CallerRequest } from "../http/pipeline.js";
import { readJsonBody } from "../http/requestBody.js";
import { jsonResponse } from "../http/responses.js";
import { matchRoute } from "../http/routes.js";
import { trackBatchRequest } from "../telemetry.js";
import { fallback } from "./fallback.js";

/** The name the batch function is registered under: an inner request that reaches it is a nested batch. */
export const BATCH_FUNCTION = "batch";

/** The methods the host routes to a function at all (the catch-all's); others never reach the app. */
const ROUTED_METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);

/** An inner request's log lines go to the batch's log, marked with the request's id in the batch. */
function innerLog(batch: InvocationContext, itemId: string) {
  const write: Record<LogLevel, ((...args: unknown[]) => void) | undefined> = {
    trace: (...args) => batch.trace(...args),
    debug: (...args) => batch.debug(...args),
    information: (...args) => batch.info(...args),
    warning: (...args) => batch.warn(...args),
    error: (...args) => batch.error(...args),
    critical: (...args) => batch.error(...args),
    none: undefined,
  };
  return (level: LogLevel, ...args: unknown[]) => write[level]?.(`[batch request ${itemId}]`, ...args);
}

/**
 * The inner request as its handler gets it. A method no function answers (TRACE, CONNECT, which a request object
 * cannot even hold) is answered by the batch itself, which needs only the request's URL and ids: the same as a GET.
 */
function requestOf(item: BatchItem, api: CallerRequest, params: Record<string, string>) {
  return innerRequest(ROUTED_METHODS.has(item.method) ? item : { ...item, method: "GET" }, api.request, params);
}

/** Answers one inner request through the handler its route registered, as the host would have invoked it. */
async function dispatch(item: BatchItem, api: CallerRequest): Promise<BatchAnswer> {
  const started = performance.now();
  const match = ROUTED_METHODS.has(item.method) ? matchRoute(item.path, item.method) : undefined;
  const functionName = match?.route.name ?? "fallback";
  const request = requestOf(item, api, match?.params ?? { path: item.path });
  const context = new functions.InvocationContext({
    invocationId: randomUUID(),
    functionName,
    traceContext: api.context.traceContext,
    logHandler: innerLog(api.context, item.id),
  });
  let init: HttpResponseInit;
  if (!ROUTED_METHODS.has(item.method)) {
    init = await withGraphErrors(request, context, () => {
      throw notFound(`No resource answers ${item.method.slice(0, 16)}.`);
    });
  } else if (functionName === BATCH_FUNCTION) {
    init = await withGraphErrors(request, context, () => {
      throw notSupported("A batch cannot hold a batch: send its requests in this one.", { target: "url" });
    });
  } else {
    init = await (match ? match.route.handler(request, context) : fallback(request, context));
  }
  const answer = await batchAnswer(item.id, init);
  trackBatchRequest({
    batchItemId: item.id,
    itemRequestId: answer.headers["request-id"] ?? context.invocationId,
    method: item.method,
    functionName,
    status: answer.status,
    durationMs: performance.now() - started,
  });
  return answer;
}

/**
 * A request the batch did not run, or whose answer failed for a reason no handler answered (a bug): a Graph error
 * (a 500 for the latter, logged and reported) under a request id of its own.
 */
async function notRun(item: BatchItem, api: CallerRequest, error: unknown): Promise<BatchAnswer> {
  const context = new functions.InvocationContext({
    invocationId: randomUUID(),
    functionName: BATCH_FUNCTION,
    logHandler: innerLog(api.context, item.id),
  });
  const request = requestOf(item, api, {});
  const answer = await batchAnswer(
    item.id,
    await withGraphErrors(request, context, () => {
      throw error;
    }),
  );
  trackBatchRequest({
    batchItemId: item.id,
    itemRequestId: context.invocationId,
    method: item.method,
    functionName: BATCH_FUNCTION,
    status: answer.status,
    durationMs: 0,
  });
  return answer;
}

/** POST /$batch: reads the batch, runs its requests in the order their dependencies allow, answers them all. */
export async function batch(api: CallerRequest): Promise<HttpResponseInit> {
  const items = parseBatch(await readJsonBody(api.request, MAX_BATCH_BODY_BYTES, MAX_BODY_DEPTH + BATCH_BODY_NESTING));
  const answers = await runBatch(
    items,
    (item) => dispatch(item, api).catch((error: unknown) => notRun(item, api, error)),
    (item, reason, dependency) =>
      notRun(
        item,
        api,
        reason === "failedDependency"
          ? graphError("failedDependency", `Not run: the request '${dependency}' it depends on failed.`)
          : graphError("serviceUnavailable", "Not run: the batch ran out of time. Retry it.", {
              headers: retryAfter(5),
            }),
      ),
  );
  return jsonResponse(200, { responses: answers }, api.wire);
}
