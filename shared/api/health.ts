/**
 * GET /health: whether the store answers. No token is needed, so the body
 * names what is down and nothing else (no endpoints, keys or versions), and
 * the store is asked at most once per HEALTH_CACHE_MS whatever the load:
 * concurrent callers share one ping, and its answer serves everyone for that
 * long. A flood of anonymous calls therefore cannot reach the store, nor make
 * a healthy store look down by queueing pings behind each other.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { config } from "../config.js";
import { withGraphErrors } from "../http/pipeline.js";
import { jsonResponse } from "../http/responses.js";
import { operationStore } from "../store/operations.js";

/** The ping's own deadline, well inside a store call's (20 s): a health check must answer promptly. */
export const HEALTH_TIMEOUT_MS = 2_000;
/** How long one answer from the store stands for every /health call, counted from when it came. */
export const HEALTH_CACHE_MS = 5_000;

let last: { readonly up: Promise<boolean>; settledAt: number | undefined } | undefined;

function storeUp(): Promise<boolean> {
  if (last && (last.settledAt === undefined || performance.now() - last.settledAt < HEALTH_CACHE_MS)) return last.up;
  const up = operationStore(config().cosmos)
    .then((store) => store.ping(HEALTH_TIMEOUT_MS))
    .catch(() => false);
  const entry: { up: Promise<boolean>; settledAt: number | undefined } = { up, settledAt: undefined };
  last = entry;
  void up.then(() => (entry.settledAt = performance.now()));
  return up;
}

export function health(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withGraphErrors(request, context, async (wire) => {
    const up = await storeUp();
    const body = { status: up ? "healthy" : "unhealthy", checks: { store: up ? "up" : "down" } };
    return jsonResponse(up ? 200 : 503, body, wire, {
      "Cache-Control": "no-store",
      ...(up ? {} : { "Retry-After": "5" }),
    });
  });
}
