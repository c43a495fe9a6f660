/** Responses with Graph's headers, JSON bodies and error bodies. */
import { describe, expect, it } from "vitest";
import { graphError } from "../../../shared/http/graphError.js";
import { ODATA_JSON } from "../../../shared/http/mediaTypes.js";
import {
  baseHeaders,
  emptyResponse,
  errorResponse,
  jsonResponse,
  textResponse,
} from "../../../shared/http/responses.js";
import type { WireContext } from "../../../shared/http/wireContext.js";

const wire: WireContext = {
  requestId: "req-1",
  clientRequestId: "client-1",
  baseUrl: "https://api.contoso.com",
  preferences: { returnMinimal: false, includeUnknownEnumMembers: false },
};
const BASE = { "request-id": "req-1", "client-request-id": "client-1", "OData-Version": "4.0" };

describe("responses", () => {
  it("carry the request's ids and the OData version", () => {
    expect(baseHeaders(wire)).toEqual(BASE);
    expect(emptyResponse(204, wire, { ETag: '"x"' })).toEqual({ status: 204, headers: { ...BASE, ETag: '"x"' } });
  });

  it("write JSON with Graph's media type, whatever the handler's headers say", () => {
    const response = jsonResponse(200, { a: 1 }, wire, { "Content-Type": "text/html", ETag: '"e"' });
    expect(response).toEqual({
      status: 200,
      headers: { ...BASE, ETag: '"e"', "Content-Type": ODATA_JSON },
      body: '{"a":1}',
    });
  });

  it("write text as UTF-8 plain text", () => {
    expect(textResponse(200, "7", wire)).toEqual({
      status: 200,
      headers: { ...BASE, "Content-Type": "text/plain;charset=utf-8" },
      body: "7",
    });
  });
});

describe("errorResponse", () => {
  const now = new Date("2030-01-02T03:04:05.678Z");

  it("writes Graph's error body with its inner error, the error's status and headers", () => {
    const error = graphError("throttled", "Slow down.", { headers: { "Retry-After": "3" } });
    const response = errorResponse(error, wire, now);
    expect(response.status).toBe(429);
    expect(response.headers).toEqual({ ...BASE, "Retry-After": "3", "Content-Type": "application/json" });
    expect(JSON.parse(response.body as string)).toEqual({
      error: {
        code: "activityLimitReached",
        message: "Slow down.",
        innerError: { date: "2030-01-02T03:04:05", "request-id": "req-1", "client-request-id": "client-1" },
      },
    });
  });

  it("adds the target and details only when there are some", () => {
    const details = [{ code: "invalidValue", target: "status", message: "Bad." }];
    const error = graphError("badRequest", "No.", { target: "status", details });
    const body = JSON.parse(errorResponse(error, wire, now).body as string);
    expect(body.error.target).toBe("status");
    expect(body.error.details).toEqual(details);
    expect(Object.keys(body.error)).toEqual(["code", "message", "innerError", "target", "details"]);
  });
});
