/** Responses as Graph writes them: its headers on every one, JSON bodies, and its error body. */
import type { HttpResponseInit } from "@azure/functions";
import type { ErrorDetail, GraphError } from "./graphError.js";
import { ODATA_JSON } from "./mediaTypes.js";
import type { WireContext } from "./wireContext.js";

/** Headers every response carries, as Graph sends them. */
export function baseHeaders(wire: WireContext): Record<string, string> {
  return { "request-id": wire.requestId, "client-request-id": wire.clientRequestId, "OData-Version": "4.0" };
}

function graphDate(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, "");
}

export function errorResponse(error: GraphError, wire: WireContext, now = new Date()): HttpResponseInit {
  const body: {
    error: {
      code: string;
      message: string;
      target?: string;
      details?: readonly ErrorDetail[];
      innerError: Record<string, string>;
    };
  } = {
    error: {
      code: error.code,
      message: error.message,
      innerError: { date: graphDate(now), "request-id": wire.requestId, "client-request-id": wire.clientRequestId },
    },
  };
  if (error.target) body.error.target = error.target;
  if (error.details.length > 0) body.error.details = error.details;
  return {
    status: error.status,
    headers: { ...baseHeaders(wire), ...error.headers, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
}

export function jsonResponse(
  status: number,
  body: unknown,
  wire: WireContext,
  headers: Record<string, string> = {},
): HttpResponseInit {
  const all = Object.assign(baseHeaders(wire), headers);
  all["Content-Type"] = ODATA_JSON;
  return { status, headers: all, body: JSON.stringify(body) };
}

export function textResponse(
  status: number,
  body: string,
  wire: WireContext,
  headers: Record<string, string> = {},
): HttpResponseInit {
  return {
    status,
    headers: { ...baseHeaders(wire), ...headers, "Content-Type": "text/plain;charset=utf-8" },
    body,
  };
}

export function emptyResponse(
  status: number,
  wire: WireContext,
  headers: Record<string, string> = {},
): HttpResponseInit {
  return { status, headers: Object.assign(baseHeaders(wire), headers) };
}
