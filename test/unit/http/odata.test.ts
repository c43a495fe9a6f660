import { describe, expect, it } from "vitest";
import { GraphError } from "../../../shared/http/graphError.js";
import { parseCollectionQuery, parseFilter } from "../../../shared/http/odata.js";
import { filterToSql } from "../../../shared/store/operationQuery.js";

describe("$filter to SQL", () => {
  it("puts every caller value in a parameter and only whitelisted names in the text", () => {
    const sql = filterToSql(
      parseFilter(
        "status eq 'failed' or (operationType ne 'cloneTeam' and not createdDateTime lt 2026-01-01T00:00:00+01:00)",
        false,
      ),
    );
    expect(sql.text).toBe("(c.status = @f0 OR c.operationType != @f1 AND c.createdDateTime >= @f2)");
    expect(sql.parameters).toEqual([
      { name: "@f0", value: "failed" },
      { name: "@f1", value: "cloneTeam" },
      { name: "@f2", value: "2025-12-31T23:00:00.0000000Z" },
    ]);
  });

  it.each([
    ["status eq 'failed' and operationType eq 'cloneTeam'", "c.status = @f0 AND c.operationType = @f1"],
    ["((status eq 'failed') and ((operationType eq 'cloneTeam')))", "c.status = @f0 AND c.operationType = @f1"],
    [
      "status eq 'failed' and (status eq 'inProgress' and (status eq 'notStarted'))",
      "c.status = @f0 AND c.status = @f1 AND c.status = @f2",
    ],
    [
      "status eq 'failed' or status eq 'inProgress' or status eq 'notStarted'",
      "(c.status = @f0 OR c.status = @f1 OR c.status = @f2)",
    ],
    ["not not status eq 'failed'", "c.status = @f0"],
    [
      "not (status eq 'failed' or createdDateTime gt 2026-01-01T00:00:00Z)",
      "c.status != @f0 AND c.createdDateTime <= @f1",
    ],
    [
      "not (status ne 'failed' and (createdDateTime ge 2026-01-01T00:00:00Z or lastActionDateTime le 2026-01-01T00:00:00Z))",
      "(c.status = @f0 OR c.createdDateTime < @f1 AND c.lastActionDateTime > @f2)",
    ],
    [
      "status eq 'failed' and (operationType eq 'cloneTeam' or operationType eq 'archiveTeam')",
      "c.status = @f0 AND (c.operationType = @f1 OR c.operationType = @f2)",
    ],
  ])("writes %s as flat SQL", (filter, expected) => {
    expect(filterToSql(parseFilter(filter, false)).text).toBe(expected);
  });

  it("allows two levels of 'or' groups and refuses a third", () => {
    const two = "status eq 'failed' or (status eq 'inProgress' and (status eq 'notStarted' or status eq 'invalid'))";
    expect(filterToSql(parseFilter(two, false)).text).toBe(
      "(c.status = @f0 OR c.status = @f1 AND (c.status = @f2 OR c.status = @f3))",
    );
    const three =
      "status eq 'failed' or (status eq 'inProgress' and (status eq 'notStarted' or (status eq 'invalid' and (operationType eq 'cloneTeam' or operationType eq 'createTeam'))))";
    expect(() => parseFilter(three, false)).toThrow(/'or' groups nest more than 2 deep/);
    // Negated, the outer `or` becomes an `and` (De Morgan), which costs nothing beside the tenant and team.
    expect(filterToSql(parseFilter(`not (${three})`, false)).text).toBe(
      "c.status != @f0 AND (c.status != @f1 OR c.status != @f2 AND (c.status != @f3 OR c.operationType != @f4 AND c.operationType != @f5))",
    );
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

describe("$orderby", () => {
  const orderBy = (text: string) => parseCollectionQuery(new URLSearchParams({ $orderby: text }), false).orderBy;

  it("takes one or two sortable properties, each ascending by default or as asked", () => {
    expect(orderBy("createdDateTime")).toEqual([{ property: "createdDateTime", direction: "asc" }]);
    expect(orderBy("lastActionDateTime desc,createdDateTime")).toEqual([
      { property: "lastActionDateTime", direction: "desc" },
      { property: "createdDateTime", direction: "asc" },
    ]);
    expect(orderBy(" createdDateTime asc , lastActionDateTime  desc ")).toEqual([
      { property: "createdDateTime", direction: "asc" },
      { property: "lastActionDateTime", direction: "desc" },
    ]);
  });

  it.each([
    ["status", /each key must be/],
    ["createdDateTime sideways", /each key must be/],
    ["createdDateTime,", /each key must be/],
    ["createdDateTime desc,createdDateTime asc", /given twice/],
    ["createdDateTime,lastActionDateTime,createdDateTime", /at most 2/],
  ])("refuses %s, naming $orderby", (text, message) => {
    let thrown: unknown;
    try {
      orderBy(text);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(GraphError);
    expect((thrown as GraphError).target).toBe("$orderby");
    expect((thrown as GraphError).message).toMatch(message);
  });
});
