/** What every response knows of its request: ids, base URL, preferences. */
import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { refusalWireContext, wireContext } from "../../../shared/http/wireContext.js";

describe("wireContext", () => {
  it("takes the client's id, the request's origin and its preferences", () => {
    const request = new HttpRequest({
      method: "GET",
      url: "http://127.0.0.1:7071/v1.0/teams/t/operations",
      headers: { "client-request-id": "mine-1", prefer: "return=minimal" },
    });
    expect(wireContext(request, "req-1", undefined)).toEqual({
      requestId: "req-1",
      clientRequestId: "mine-1",
      baseUrl: "http://127.0.0.1:7071",
      preferences: { returnMinimal: true, includeUnknownEnumMembers: false },
    });
  });

  it("prefers the configured public base URL, and makes up a client id when none came", () => {
    const request = new HttpRequest({ method: "GET", url: "http://10.0.0.4/v1.0/health" });
    const wire = wireContext(request, "req-2", "https://api.contoso.com");
    expect(wire.baseUrl).toBe("https://api.contoso.com");
    expect(wire.clientRequestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("refusalWireContext", () => {
  it("knows only the ids of a request the host refuses", () => {
    expect(refusalWireContext("theirs", "req-3")).toEqual({
      requestId: "req-3",
      clientRequestId: "theirs",
      baseUrl: "",
      preferences: { returnMinimal: false, includeUnknownEnumMembers: false },
    });
    expect(refusalWireContext("not a token", "req-4").clientRequestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
