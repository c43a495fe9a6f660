/** The identifier shapes of `shared/ids.ts`, which every check of a GUID or a client's own id uses. */
import { describe, expect, it } from "vitest";
import { GUID, GUID_SOURCE, VISIBLE_ASCII_ID } from "../../shared/ids.js";

describe("GUID", () => {
  it("accepts 8-4-4-4-12 hex digits of either case", () => {
    expect(GUID.test("3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f")).toBe(true);
    expect(GUID.test("3F1A7E6C-1D2B-4C5D-9E8F-0A1B2C3D4E5F")).toBe(true);
    expect(GUID.test("00000000-0000-0000-0000-000000000000")).toBe(true);
  });

  it("refuses anything else: braces, missing or extra digits, other letters, surrounding text", () => {
    for (const bad of [
      "",
      "{3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f}",
      "3f1a7e6c1d2b4c5d9e8f0a1b2c3d4e5f",
      "3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5",
      "3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f0",
      "3f1a7e6g-1d2b-4c5d-9e8f-0a1b2c3d4e5f",
      " 3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f",
      "3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f\n",
    ]) {
      expect(GUID.test(bad), bad).toBe(false);
    }
  });

  it("has a source that composes into larger patterns and JSON Schema patterns", () => {
    const teamPath = new RegExp(`^teams/(${GUID_SOURCE})/operations$`);
    expect(teamPath.exec("teams/3F1A7E6C-1d2b-4c5d-9e8f-0a1b2c3d4e5f/operations")?.[1]).toBe(
      "3F1A7E6C-1d2b-4c5d-9e8f-0a1b2c3d4e5f",
    );
    expect(new RegExp(`^${GUID_SOURCE}$`, "u").test("3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f")).toBe(true);
  });
});

describe("VISIBLE_ASCII_ID", () => {
  it("accepts 1 to 128 visible ASCII characters", () => {
    expect(VISIBLE_ASCII_ID.test("a")).toBe(true);
    expect(VISIBLE_ASCII_ID.test("!~")).toBe(true);
    expect(VISIBLE_ASCII_ID.test("x".repeat(128))).toBe(true);
  });

  it("refuses none, more than 128, spaces, controls and anything past ASCII", () => {
    for (const bad of ["", "x".repeat(129), "a b", "a\tb", "a\x7f", "é", "id\n"]) {
      expect(VISIBLE_ASCII_ID.test(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});
