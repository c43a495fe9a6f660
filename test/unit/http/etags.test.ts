/** ETag headers and the If-Match / If-None-Match preconditions. */
import { describe, expect, it } from "vitest";
import { GraphError } from "../../../shared/http/graphError.js";
import { etagHeader, opaqueTag, parsePreconditions, preconditionMatches } from "../../../shared/http/etags.js";

describe("opaqueTag and etagHeader", () => {
  it("take the opaque part of a quoted, weak or bare tag, and always send a strong quoted one", () => {
    expect(opaqueTag('"abc"')).toBe("abc");
    expect(opaqueTag('W/"abc"')).toBe("abc");
    expect(opaqueTag("abc")).toBe("abc");
    expect(opaqueTag("W/abc")).toBe("abc");
    expect(etagHeader('"00000a00-0000-0d00-0000-65f0c0de0000"')).toBe('"00000a00-0000-0d00-0000-65f0c0de0000"');
    expect(etagHeader("bare")).toBe('"bare"');
  });

  it("leave a tag with a line terminator inside its quotes as it is", () => {
    expect(opaqueTag('"a\nb"')).toBe('"a\nb"');
  });
});

describe("parsePreconditions", () => {
  it("reads no header, '*', and lists of strong and weak tags", () => {
    expect(parsePreconditions("If-Match", null)).toBeUndefined();
    expect(parsePreconditions("If-Match", " * ")).toBe("*");
    expect(parsePreconditions("If-None-Match", '"a", W/"b"')).toEqual([
      { tag: "a", weak: false },
      { tag: "b", weak: true },
    ]);
  });

  it("refuses what is not a list of quoted tags, naming the header", () => {
    for (const bad of ["abc", '"a" "b"', '"a",', "", `"${"x".repeat(1100)}"`]) {
      let thrown: unknown;
      try {
        parsePreconditions("If-Match", bad);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, bad).toBeInstanceOf(GraphError);
      expect((thrown as GraphError).status).toBe(400);
      expect((thrown as GraphError).details).toEqual([
        { code: "invalidHeader", target: "If-Match", message: "Malformed entity tag." },
      ]);
    }
  });
});

describe("preconditionMatches", () => {
  const stored = '"v1"';
  it("matches '*' always, and a listed tag by its opaque part", () => {
    expect(preconditionMatches("*", stored, true)).toBe(true);
    expect(preconditionMatches([{ tag: "v1", weak: false }], stored, true)).toBe(true);
    expect(preconditionMatches([{ tag: "v0", weak: false }], stored, true)).toBe(false);
  });

  it("lets a weak tag match only in weak comparison (If-None-Match), never in strong (If-Match)", () => {
    expect(preconditionMatches([{ tag: "v1", weak: true }], stored, true)).toBe(false);
    expect(preconditionMatches([{ tag: "v1", weak: true }], stored, false)).toBe(true);
  });
});
