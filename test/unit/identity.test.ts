import { describe, expect, it } from "vitest";
import { parseIngestionAuthentication } from "../../shared/identity.js";

const ID = "6a0e4c9d-1111-4222-8333-944455556666";

describe("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", () => {
  it("is no Entra ID ingestion when unset or empty", () => {
    expect(parseIngestionAuthentication(undefined)).toEqual({ aad: false });
    expect(parseIngestionAuthentication("  ")).toEqual({ aad: false });
  });

  it("names the user-assigned identity, keys in any case and order, with or without a trailing ;", () => {
    expect(parseIngestionAuthentication(`ClientId=${ID};Authorization=AAD`)).toEqual({ aad: true, clientId: ID });
    expect(parseIngestionAuthentication(`authorization=aad; clientid=${ID};`)).toEqual({ aad: true, clientId: ID });
  });

  it("without ClientId means the system-assigned identity", () => {
    expect(parseIngestionAuthentication("Authorization=AAD")).toEqual({ aad: true });
  });

  it.each([
    ["Authorization=Key", /must say Authorization=AAD/],
    [`ClientId=${ID}`, /must say Authorization=AAD/],
    ["Authorization=AAD;ClientId=not-a-guid", /ClientId must be a GUID/],
    ["Authorization=AAD;Tenant=x", /unknown keys: tenant/],
    ["Authorization", /not key=value/],
  ])("refuses %s", (value, message) => {
    expect(() => parseIngestionAuthentication(value)).toThrow(message);
  });
});
