/**
 * Properties of the OData query parser: generated valid filters parse to the
 * tree they were written from and translate to SQL that names only
 * whitelisted properties and @f parameters; arbitrary text never makes the
 * parser throw anything but a 400 Graph error.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { GraphError } from "../../shared/http/graphError.js";
import { filterToSql, parseCollectionQuery, parseFilter } from "../../shared/http/odata.js";
import { filter } from "../reliability/arbitraries.js";

const WHITELIST = new Set(["status", "operationType", "createdDateTime", "lastActionDateTime"]);

function onlyBadRequest(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphError);
    expect((error as GraphError).status).toBe(400);
    expect(["invalidRequest", "notSupported"]).toContain((error as GraphError).code);
  }
}

describe("$filter", () => {
  test.prop([filter()])("parses a generated filter to the tree it was written from", (generated) => {
    expect(parseFilter(generated.text, false)).toEqual(generated.ast);
  });

  test.prop([filter()])("translates to SQL over whitelisted names, with every value a parameter", (generated) => {
    const sql = filterToSql(parseFilter(generated.text, false));
    expect(sql.parameters).toHaveLength(generated.comparisons);
    sql.parameters.forEach((p, i) => expect(p.name).toBe(`@f${i}`));
    for (const [, name] of sql.text.matchAll(/c\.(\w+)/g)) expect(WHITELIST.has(name!)).toBe(true);
    const skeleton = sql.text
      .replace(/c\.\w+/g, "")
      .replace(/@f\d+/g, "")
      .replace(/\b(AND|OR|NOT)\b/g, "")
      .replace(/!=|>=|<=|[=<>()]/g, "");
    expect(skeleton.trim()).toBe("");
  });

  const soup = fc
    .array(
      fc.constantFrom(
        "status",
        "operationType",
        "createdDateTime",
        "lastActionDateTime",
        "eq",
        "ne",
        "gt",
        "le",
        "and",
        "or",
        "not",
        "(",
        ")",
        "'inProgress'",
        "'cloneTeam'",
        "'",
        "''",
        "2026-01-01T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "contains(",
        ",",
        "null",
        "$",
        ";",
        "--",
        "/",
        "@f0",
        "c.tenantId",
        "\u0000",
        "\ud800",
        " ",
      ),
      { maxLength: 40 },
    )
    .map((parts) => parts.join(" "));

  test.prop([fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 }), soup)], {
    numRuns: 1000,
  })("never throws anything but a 400 for arbitrary text", (text) => {
    onlyBadRequest(() => {
      const node = parseFilter(text, false);
      const sql = filterToSql(node);
      for (const [, name] of sql.text.matchAll(/c\.(\w+)/g)) expect(WHITELIST.has(name!)).toBe(true);
    });
  });
});

describe("query options", () => {
  const key = fc.oneof(
    fc.constantFrom("$top", "$skiptoken", "$count", "$filter", "$orderby", "$select", "$expand", "$skip", "top", "$"),
    fc.string({ maxLength: 8 }),
  );
  test.prop([fc.array(fc.tuple(key, fc.string({ maxLength: 40 })), { maxLength: 6 }), fc.boolean()], { numRuns: 500 })(
    "any query string parses or is a 400",
    (pairs, include) => {
      onlyBadRequest(() => {
        const query = parseCollectionQuery(new URLSearchParams(pairs), include);
        expect(query.top).toBeGreaterThanOrEqual(1);
        expect(query.top).toBeLessThanOrEqual(100);
      });
    },
  );
});
