/** client-request-id: echoed when it is a token, made up otherwise. */
import { describe, expect, it } from "vitest";
import { clientRequestIdOf } from "../../../shared/http/requestIds.js";

const GENERATED = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("clientRequestIdOf", () => {
  it("echoes a client's id of 1-128 visible ASCII characters", () => {
    expect(clientRequestIdOf("abc-123")).toBe("abc-123");
    expect(clientRequestIdOf("x".repeat(128))).toBe("x".repeat(128));
  });

  it("makes up a new GUID for none, an empty one, or one that is not a token", () => {
    for (const sent of [null, undefined, "", "has space", "x".repeat(129), "é"]) {
      expect(clientRequestIdOf(sent), String(sent)).toMatch(GENERATED);
    }
    expect(clientRequestIdOf(null)).not.toBe(clientRequestIdOf(null));
  });
});
