/** OData key syntax in a path, rewritten to the path-segment form the routes are registered with. */
import { describe, expect, it } from "vitest";
import { fromKeySyntax } from "../../../shared/http/keySyntax.js";

const TEAM = "3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f";

describe("fromKeySyntax", () => {
  it("rewrites Graph's quoted form and its docs' unquoted form to the same path", () => {
    expect(fromKeySyntax(`teams('${TEAM}')/operations('op-1')`)).toBe(`teams/${TEAM}/operations/op-1`);
    expect(fromKeySyntax(`teams(${TEAM})/operations(op-1)`)).toBe(`teams/${TEAM}/operations/op-1`);
  });

  it("leaves segments without a key as they are, beside keyed ones", () => {
    expect(fromKeySyntax(`teams('${TEAM}')/operations`)).toBe(`teams/${TEAM}/operations`);
    expect(fromKeySyntax(`groups/${TEAM}/team/operations('x')`)).toBe(`groups/${TEAM}/team/operations/x`);
  });

  it("reads a quoted key's doubled quotes as one quote", () => {
    expect(fromKeySyntax(`teams('${TEAM}')/operations('it''s')`)).toBe(`teams/${TEAM}/operations/it's`);
  });

  it("answers undefined for a path with no key, a malformed or empty key, or a key holding a '/'", () => {
    expect(fromKeySyntax(`teams/${TEAM}/operations`)).toBeUndefined();
    expect(fromKeySyntax("teams('unclosed)/operations")).toBeUndefined();
    expect(fromKeySyntax("teams('a'b')")).toBeUndefined();
    expect(fromKeySyntax("teams('')")).toBeUndefined();
    expect(fromKeySyntax("teams(a=b)")).toBeUndefined();
    expect(fromKeySyntax("teams('a/b')")).toBeUndefined();
  });
});
