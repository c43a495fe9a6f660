import { describe, expect, it } from "vitest";
import { GraphError } from "../../shared/http/graphError.js";
import { filterToSql, parseCollectionQuery, parseFilter } from "../../shared/http/odata.js";

describe("$filter to SQL", () => {
  it("puts every caller value in a parameter and only whitelisted names in the text", () => {
    const sql = filterToSql(
      parseFilter(
        "status eq 'failed' or (operationType ne 'cloneTeam' and not createdDateTime lt 2026-01-01T00:00:00+01:00)",
        false,
      ),
    );
    expect(sql.text).toBe("((c.status = @f0) OR ((c.operationType != @f1) AND (NOT (c.createdDateTime < @f2))))");
    expect(sql.parameters).toEqual([
      { name: "@f0", value: "failed" },
      { name: "@f1", value: "cloneTeam" },
      { name: "@f2", value: "2025-12-31T23:00:00.0000000Z" },
    ]);
  });

  it("keeps quotes inside values as data", () => {
    expect(() => parseFilter("status eq 'x'' OR 1=1 --'", false)).toThrow(GraphError);
  });

  it.each([
    "status eq",
    "eq 'failed'",
    "status eq 'failed' and or",
    "((status eq 'failed')",
    "status eq 'failed')",
    "id eq '1'",
  ])("refuses %s", (text) => {
    expect(() => parseFilter(text, false)).toThrow(/Invalid \$filter/);
  });
});

describe("collection query options", () => {
  it("has documented defaults", () => {
    expect(parseCollectionQuery(new URLSearchParams(""), false)).toEqual({
      top: 20,
      skipToken: undefined,
      count: false,
      filter: undefined,
      orderBy: undefined,
      select: undefined,
    });
  });

  it("ignores parameters that are not OData options, as Graph does", () => {
    expect(parseCollectionQuery(new URLSearchParams("api-version=1&$top=3"), false).top).toBe(3);
  });
});
