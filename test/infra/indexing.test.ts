/**
 * The operations container's indexing policy, as Azure receives it (the
 * compiled ARM), against every query the store can emit
 * (test/support/queryShapes.ts): each shape is served by the rules of Cosmos
 * DB's documentation (test/infra/indexCoverage.ts), and each index serves at
 * least one shape. A new $filter or $orderby property, or a new store query,
 * fails here until the policy serves it; an index nothing uses fails too.
 * Needs the Bicep CLI (see template.test.ts).
 */
import type { IndexingPolicy } from "@azure/cosmos";
import { describe, expect, it } from "vitest";
import { OPERATIONS_INDEXING_POLICY } from "../../shared/store/indexingPolicy.js";
import { TEAM_SCOPE } from "../../shared/store/operationQuery.js";
import { acceptedComparisons, acceptedSorts, orderByText, storeQueryShapes } from "../support/queryShapes.js";
import type { ArmTemplate } from "./bicep.js";
import { buildMain, findBicep } from "./bicep.js";
import { deployed } from "./armEvaluator.js";
import { analyse, coverage } from "./indexCoverage.js";
import { setUpOrFailEach } from "../support/setUpOrFail.js";

let compiled: IndexingPolicy;
setUpOrFailEach(async () => {
  const main: ArmTemplate = await buildMain(findBicep());
  const all = deployed(main, { environmentName: "teamops-dev", location: "swedencentral", authAudiences: "api://x" });
  const containers = all.filter((d) => d.type === "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers");
  const operations = containers.filter((c) => String(c.name).endsWith("/operations"));
  if (operations.length !== 1) throw new Error(`expected one operations container, found ${containers.length}`);
  compiled = operations[0]!.properties().resource.indexingPolicy as IndexingPolicy;
});

describe("the shapes the store can emit", () => {
  it("are found from the OData parser and the store's builders, not listed by hand", () => {
    const comparisons = acceptedComparisons().map((c) => `${c.property} ${c.operator}`);
    // What the parser accepts today; a change to it changes this list, and the policy check below follows.
    expect(comparisons).toEqual(
      expect.arrayContaining([
        "status eq",
        "status ne",
        "operationType eq",
        "createdDateTime ge",
        "lastActionDateTime lt",
      ]),
    );
    expect(acceptedSorts().map(orderByText)).toEqual(
      expect.arrayContaining([
        "createdDateTime asc",
        "createdDateTime desc",
        "lastActionDateTime desc",
        "lastActionDateTime desc,createdDateTime asc",
        "createdDateTime asc,lastActionDateTime desc",
      ]),
    );
    const shapes = storeQueryShapes();
    expect(shapes.length).toBeGreaterThan(50);
    for (const label of ["count, no $filter", "sweeper, notStarted", "sweeper, inProgress"]) {
      expect(shapes.map((s) => s.label)).toContain(label);
    }
  });

  it("sort by the team scope first, in the first key's direction, and filter by it first", () => {
    for (const shape of storeQueryShapes()) {
      const a = analyse(shape);
      if (shape.label.startsWith("sweeper")) {
        expect(a).toMatchObject({ equalities: ["status"], ranges: ["_ts"], orderBy: [] });
        continue;
      }
      expect(a.equalities, shape.label).toEqual([...TEAM_SCOPE]);
      expect(a.ranges, shape.label).toEqual([]);
      if (a.orderBy.length > 0) {
        expect(a.orderBy.map((o) => o.property).slice(0, TEAM_SCOPE.length)).toEqual([...TEAM_SCOPE]);
        const scopeAndFirst = a.orderBy.slice(0, TEAM_SCOPE.length + 1);
        expect(new Set(scopeAndFirst.map((o) => o.descending)).size, shape.label).toBe(1);
      }
    }
  });
});

describe("the compiled indexing policy", () => {
  it("is the one the embedded store is created with", () => {
    expect(compiled).toEqual(OPERATIONS_INDEXING_POLICY);
  });

  it("indexes the partition key /teamId/? (an opt-in policy does not index it by itself) and excludes the rest", () => {
    const included = (compiled.includedPaths ?? []).map((p) => p.path);
    expect(included).toContain("/teamId/?");
    expect(included).toContain("/tenantId/?");
    expect(compiled.excludedPaths).toEqual([{ path: "/*" }]);
  });

  it("serves every query shape the store can emit", () => {
    const { problems } = coverage(compiled, storeQueryShapes());
    expect(problems).toEqual([]);
  });

  it("has no index that serves none of them (each indexed path costs every write)", () => {
    const { unused } = coverage(compiled, storeQueryShapes());
    expect(unused).toEqual([]);
  });
});

describe("the coverage check itself", () => {
  // The rules above must be able to fail: each of these policies is missing, or has too much, of something.
  const shapes = () => storeQueryShapes();
  const without = (drop: (paths: string) => boolean): IndexingPolicy => ({
    ...compiled,
    compositeIndexes: (compiled.compositeIndexes ?? []).filter((c) => !drop(c.map((p) => p.path).join(","))),
  });

  it("fails a policy without the composite for an $orderby property", () => {
    const { problems } = coverage(
      without((p) => p.endsWith("/createdDateTime")),
      shapes(),
    );
    expect(problems.join("\n")).toMatch(/\$orderby=createdDateTime (asc|desc): no composite index for the ORDER BY/);
  });

  it("fails a policy without the composite for one mix of directions of two $orderby properties", () => {
    const { problems } = coverage(
      without((p) => p.endsWith("/lastActionDateTime,/createdDateTime")),
      shapes(),
    );
    expect(problems.join("\n")).toMatch(
      /\$orderby=lastActionDateTime (asc|desc),createdDateTime (asc|desc): no composite index for the ORDER BY/,
    );
  });

  it("fails a policy without the sweeper's composite, or the $count's", () => {
    expect(
      coverage(
        without((p) => p === "/status,/_ts"),
        shapes(),
      ).problems.join("\n"),
    ).toMatch(/sweeper, notStarted: no composite index on \(status, _ts\)/);
    expect(
      coverage(
        without((p) => p === "/tenantId,/teamId"),
        shapes(),
      ).problems.join("\n"),
    ).toMatch(/count, no \$filter: no composite index on \(tenantId, teamId\)/);
  });

  it("fails a policy that does not index a filterable property or the partition key", () => {
    for (const path of ["/operationType/?", "/teamId/?"]) {
      const policy = { ...compiled, includedPaths: (compiled.includedPaths ?? []).filter((p) => p.path !== path) };
      expect(coverage(policy, shapes()).problems.join("\n")).toContain(`no range index on ${path}`);
    }
  });

  it("accepts a composite read backwards (Cosmos DB serves ORDER BY a DESC, b DESC from (a ASC, b ASC))", () => {
    const reversed: IndexingPolicy = {
      ...compiled,
      compositeIndexes: (compiled.compositeIndexes ?? []).map((c) =>
        c.map((p) => ({ ...p, order: p.order === "descending" ? ("ascending" as const) : ("descending" as const) })),
      ),
    };
    expect(coverage(reversed, shapes()).problems).toEqual([]);
  });

  it("reports an index nothing uses", () => {
    const extra: IndexingPolicy = {
      ...compiled,
      includedPaths: [...(compiled.includedPaths ?? []), { path: "/attemptsCount/?" }],
      compositeIndexes: [
        ...(compiled.compositeIndexes ?? []),
        [
          { path: "/tenantId", order: "ascending" },
          { path: "/createdDateTime", order: "ascending" },
        ],
      ],
    };
    expect(coverage(extra, shapes()).unused).toEqual([
      "composite (/tenantId ascending, /createdDateTime ascending)",
      "included path /attemptsCount/?",
    ]);
  });
});
