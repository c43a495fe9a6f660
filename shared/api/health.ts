/**
 * GET /health: whether the store answers, within a short time. No token is
 * needed, so the body names what is down and nothing else (no endpoints,
 * keys or versions).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { config } from "../config.js";
import { withGraphErrors } from "../http/pipeline.js";
import { jsonResponse } from "../http/wire.js";
import { operationStore } from "../store/operationStore.js";

export const HEALTH_TIMEOUT_MS = 2_000;

export function health(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withGraphErrors(request, context, async (wire) => {
    const storeUp = await operationStore(() => config().cosmos)
      .then((store) => store.ping(HEALTH_TIMEOUT_MS))
      .catch(() => false);
    const body = { status: storeUp ? "healthy" : "unhealthy", checks: { store: storeUp ? "up" : "down" } };
    return jsonResponse(storeUp ? 200 : 503, body, wire, {
      "Cache-Control": "no-store",
      ...(storeUp ? {} : { "Retry-After": "5" }),
    });
  });
}
