/** The Prefer header (RFC 7240) and Preference-Applied. */
import { describe, expect, it } from "vitest";
import { parsePrefer, preferenceApplied } from "../../../shared/http/preferences.js";

describe("parsePrefer", () => {
  it("finds nothing in no header or an empty one", () => {
    expect(parsePrefer(null)).toEqual({ returnMinimal: false, includeUnknownEnumMembers: false });
    expect(parsePrefer("")).toEqual({ returnMinimal: false, includeUnknownEnumMembers: false });
  });

  it("reads return=minimal and include-unknown-enum-members, in any case, with spaces around '='", () => {
    expect(parsePrefer("return=minimal")).toEqual({ returnMinimal: true, includeUnknownEnumMembers: false });
    expect(parsePrefer("Return = Minimal")).toMatchObject({ returnMinimal: true });
    expect(parsePrefer("include-unknown-enum-members")).toEqual({
      returnMinimal: false,
      includeUnknownEnumMembers: true,
    });
  });

  it("reads each of a comma-separated list, ignoring parameters after ';'", () => {
    expect(parsePrefer("respond-async, return=minimal; foo=bar ,include-unknown-enum-members")).toEqual({
      returnMinimal: true,
      includeUnknownEnumMembers: true,
    });
  });

  it("ignores what it does not understand, including return=representation", () => {
    expect(parsePrefer("return=representation, odata.maxpagesize=5, wait=10")).toEqual({
      returnMinimal: false,
      includeUnknownEnumMembers: false,
    });
  });
});

describe("preferenceApplied", () => {
  it("names the honoured preferences, or sends no header when none was", () => {
    expect(preferenceApplied([])).toEqual({});
    expect(preferenceApplied(["return=minimal"])).toEqual({ "Preference-Applied": "return=minimal" });
    expect(preferenceApplied(["return=minimal", "include-unknown-enum-members"])).toEqual({
      "Preference-Applied": "return=minimal, include-unknown-enum-members",
    });
  });
});
