/**
 * The route-template compiler the API's route table and the local host share:
 * what each kind of segment matches, the values it captures, the order routes
 * are tried in, and (against the two compilers it replaced, kept below as the
 * reference) the same verdict on random templates and paths.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { compileRouteTemplate, parseSegment, routeValues } from "../../../shared/http/routeTemplate.js";

function values(template: string, path: string): Record<string, string> | undefined {
  const compiled = compileRouteTemplate(template);
  const match = compiled.pattern.exec(path);
  return match ? routeValues(compiled, match) : undefined;
}

describe("compileRouteTemplate", () => {
  it("matches literal segments case-insensitively, with or without a trailing slash", () => {
    const { pattern } = compileRouteTemplate("v1.0/health");
    expect(pattern.test("/v1.0/health")).toBe(true);
    expect(pattern.test("/V1.0/HEALTH/")).toBe(true);
    expect(pattern.test("/v1.0/health//")).toBe(false);
    expect(pattern.test("/v1x0/health")).toBe(false); // the dot is a literal dot
    expect(pattern.test("/v1.0/health/more")).toBe(false);
  });

  it("captures a parameter as one whole segment", () => {
    expect(values("teams/{teamId}/operations", "/teams/abc/operations")).toEqual({ teamId: "abc" });
    expect(values("teams/{teamId}/operations", "/teams/a/b/operations")).toBeUndefined();
    expect(values("teams/{teamId}/operations", "/teams//operations")).toBeUndefined();
  });

  it("lets an optional parameter be absent, and leaves it out of the values", () => {
    expect(values("items/{id?}", "/items/7")).toEqual({ id: "7" });
    expect(values("items/{id?}", "/items")).toEqual({});
    expect(values("items/{id?}", "/items/")).toEqual({});
  });

  it("takes a constraint as a plain parameter (the constraint is not checked)", () => {
    expect(values("items/{id:int}", "/items/seven")).toEqual({ id: "seven" });
    expect(parseSegment("{id:int}")).toMatchObject({ kind: "parameter", name: "id", constrained: true });
  });

  it("captures the rest of the path in a catch-all, slashes included", () => {
    expect(values("echo/{id}/{*rest}", "/echo/42/a%2Fb/c")).toEqual({ id: "42", rest: "a%2Fb/c" });
    expect(values("echo/{id}/{*rest}", "/echo/42")).toEqual({ id: "42" });
    expect(values("{*path}", "/anything/at/all")).toEqual({ path: "anything/at/all" });
  });

  it("reads a segment that is not a whole parameter as a literal, braces included", () => {
    expect(parseSegment("a{b}")).toEqual({ kind: "literal", text: "a{b}" });
    expect(compileRouteTemplate("x/a{b}").pattern.test("/x/a{b}")).toBe(true);
    expect(compileRouteTemplate("x/{a-b}").pattern.test("/x/{a-b}")).toBe(true);
  });

  it("ranks literals before parameters before a catch-all, segment by segment", () => {
    const ranked = ["{*path}", "teams/{teamId}", "teams/getAllMessages", "{a}/{b}"]
      .map((template) => ({ template, rank: compileRouteTemplate(template).rank }))
      .sort((a, b) => a.rank.localeCompare(b.rank))
      .map((r) => r.template);
    expect(ranked).toEqual(["teams/getAllMessages", "teams/{teamId}", "{a}/{b}", "{*path}"]);
  });
});

// ---------------------------------------------------------------- the reference: the two compilers it replaced

/** The local host's, on the template below its prefix (matching the whole path, leading slash included). */
function referenceHostPattern(template: string): { pattern: RegExp; params: string[]; rank: string } {
  const params: string[] = [];
  let rank = "";
  const parts = template.split("/").map((segment) => {
    const param = /^\{(\*?)([A-Za-z0-9_]+)(?::[^}?]*)?(\??)\}$/.exec(segment);
    if (!param) {
      rank += "0";
      return `/${segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`;
    }
    params.push(param[2]!);
    if (param[1]) {
      rank += "2";
      return "(?:/(.*))?";
    }
    rank += "1";
    return param[3] ? "(?:/([^/]+))?" : "/([^/]+)";
  });
  return { pattern: new RegExp(`^${parts.join("")}/?$`, "i"), params, rank };
}

/** The route table's, for literal and `{name}` segments only (matching a path without its leading slash). */
function referenceTablePattern(route: string): { pattern: RegExp; params: string[]; rank: string } {
  const params: string[] = [];
  let rank = "";
  const parts = route.split("/").map((segment) => {
    const param = /^\{([A-Za-z0-9_]+)\}$/.exec(segment);
    if (!param) {
      rank += "0";
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }
    params.push(param[1]!);
    rank += "1";
    return "([^/]+)";
  });
  return { pattern: new RegExp(`^${parts.join("/")}/?$`, "i"), params, rank };
}

const literal = fc.constantFrom("teams", "Operations", "v1.0", "$ref", "a.b", "x+y", "(z)", "", "a{b}");
const plainParameter = fc.constantFrom("{teamId}", "{id}", "{operationId}");
const anyParameter = fc.oneof(plainParameter, fc.constantFrom("{id?}", "{id:int}", "{n:guid?}", "{*rest}"));
const pathSegment = fc.oneof(literal, fc.constantFrom("x", "TEAMS", "v1x0", "a%2Fb", "{id}", "1"));
const path = fc
  .array(pathSegment, { maxLength: 6 })
  .chain((segments) => fc.constantFrom("", "/").map((end) => `/${segments.join("/")}${end}`));

/** Paths a template should match: each parameter given a value (or none, or several segments for a catch-all). */
function instances(segments: readonly string[]): string[] {
  const fill = (value: (segment: string) => string | undefined) =>
    `/${segments.flatMap((s) => (s.startsWith("{") ? (value(s) ?? []) : [s])).join("/")}`;
  return [
    fill(() => "x"),
    fill((s) => (s.startsWith("{*") ? "a/b/c" : "Y")),
    fill((s) => (s.endsWith("?}") || s.startsWith("{*") ? undefined : "z")),
  ];
}

describe("compileRouteTemplate matches as the compilers it replaced did", () => {
  test.prop([fc.array(fc.oneof(literal, anyParameter), { minLength: 1, maxLength: 5 }), fc.array(path)])(
    "the local host's: the same matches, values and rank",
    (segments, paths) => {
      const template = segments.join("/");
      const compiled = compileRouteTemplate(template);
      const reference = referenceHostPattern(template);
      expect(compiled.params).toEqual(reference.params);
      expect(compiled.rank).toBe(reference.rank);
      for (const p of [...paths, ...instances(segments)]) {
        expect(compiled.pattern.exec(p)?.slice(), p).toEqual(reference.pattern.exec(p)?.slice());
      }
      expect(compiled.pattern.test(instances(segments)[0]!)).toBe(true);
    },
  );

  const tableLiteral = literal.filter((s) => !/[{}]/.test(s));
  test.prop([fc.array(fc.oneof(tableLiteral, plainParameter), { minLength: 1, maxLength: 5 }), fc.array(path)])(
    "the route table's: the same matches on the path below the prefix, values and rank",
    (segments, paths) => {
      const template = segments.join("/");
      const compiled = compileRouteTemplate(template);
      const reference = referenceTablePattern(template);
      expect(compiled.params).toEqual(reference.params);
      expect(compiled.rank).toBe(reference.rank);
      for (const p of [...paths, ...instances(segments)]) {
        const below = p.slice(1);
        expect(compiled.pattern.exec(`/${below}`)?.slice(1), below).toEqual(reference.pattern.exec(below)?.slice(1));
      }
    },
  );
});
