/**
 * Every query the operation store sends, as Cosmos DB SQL, built here so that test/infra/indexing.test.ts can check
 * each shape against the container's indexing policy (indexingPolicy.ts): a new filter or sort cannot ship without
 * its index. A caller's $filter arrives as a tree (`../operations/query.ts`) and becomes a parameterised condition
 * over whitelisted property names: no caller text reaches SQL.
 */
import type { Comparison, ComparisonOperator, FilterNode, OrderBy } from "../operations/query.js";
import type { StoreQuery } from "./cosmos.js";

/** A SQL condition over `c`, built only from whitelisted property names, that can be ANDed with others as it is. */
export interface SqlCondition {
  readonly text: string;
  readonly parameters: Array<{ name: string; value: string }>;
}

const SQL_OPERATORS: Record<ComparisonOperator, string> = { eq: "=", ne: "!=", gt: ">", ge: ">=", lt: "<", le: "<=" };
const NEGATED: Record<ComparisonOperator, ComparisonOperator> = {
  eq: "ne",
  ne: "eq",
  gt: "le",
  ge: "lt",
  lt: "ge",
  le: "gt",
};

/** A filter in negation normal form with n-ary chains: what the SQL is written from. */
type FlatNode = Comparison | { kind: "and" | "or"; operands: FlatNode[] };

/**
 * Folds every `not` into the comparisons under it (De Morgan; `not a lt x` is `a ge x`, which holds because the
 * filterable properties are always present) and merges chains of the same operator into one n-ary node.
 */
function normalise(node: FilterNode, negate = false): FlatNode {
  switch (node.kind) {
    case "not":
      return normalise(node.operand, !negate);
    case "compare":
      return negate ? { ...node, operator: NEGATED[node.operator] } : node;
    case "and":
    case "or": {
      const kind = (node.kind === "and") !== negate ? "and" : "or";
      const operands = [node.left, node.right].flatMap((child) => {
        const flat = normalise(child, negate);
        return flat.kind === kind ? flat.operands : [flat];
      });
      return { kind, operands };
    }
  }
}

function nesting(node: FlatNode): number {
  if (node.kind === "compare") return 0;
  const inner = Math.max(...node.operands.map(nesting));
  return node.kind === "or" ? inner + 1 : inner;
}

/**
 * How many `or` groups the filter's SQL nests (the condition is ANDed with the tenant and team, so a top `or`
 * counts): the only nesting the translation leaves, which the OData parser bounds (`FILTER_LIMITS.orNesting`).
 */
export function orNesting(filter: FilterNode): number {
  return nesting(normalise(filter));
}

/**
 * Translates a filter to flat SQL over `c`: property names from the whitelist, every value a parameter, no `NOT`,
 * and parentheses only around an `OR` inside an `AND` (AND binds tighter than OR, in Cosmos DB SQL as elsewhere).
 */
export function filterToSql(node: FilterNode, parameters: SqlCondition["parameters"] = []): SqlCondition {
  const build = (n: FlatNode, insideAnd: boolean): string => {
    if (n.kind === "compare") {
      const name = `@f${parameters.length}`;
      parameters.push({ name, value: n.value });
      return `c.${n.property} ${SQL_OPERATORS[n.operator]} ${name}`;
    }
    const text = n.operands.map((operand) => build(operand, n.kind === "and")).join(` ${n.kind.toUpperCase()} `);
    return n.kind === "or" && insideAnd ? `(${text})` : text;
  };
  return { text: build(normalise(node), true), parameters };
}

/**
 * The equality filters that scope every query to one tenant's operations in one team, in the order of the
 * composite indexes that begin with them. An ordered query sorts by them first (they are constant within the
 * result, so the order is the same): Cosmos DB serves `WHERE a = @a ORDER BY b` from the composite index
 * (a, b) only when the query says `ORDER BY a, b`.
 */
export const TEAM_SCOPE = ["tenantId", "teamId"] as const;

/** The statuses of an operation that has not finished, which the sweeper looks for. */
export const RUNNING_STATUSES = ["notStarted", "inProgress"] as const;

/**
 * The WHERE clause of a team's operations: the tenant and team, no tombstones (they have no status; `status` is
 * indexed, `tombstone` is not), then the caller's filter; one flat AND chain.
 */
function teamScope(tenantId: string, teamId: string, filter: FilterNode | undefined): StoreQuery {
  const values: Record<(typeof TEAM_SCOPE)[number], string> = { tenantId, teamId };
  const condition = filter ? filterToSql(filter) : undefined;
  const where = `${TEAM_SCOPE.map((p) => `c.${p} = @${p}`).join(" AND ")} AND IS_DEFINED(c.status)`;
  return {
    query: `WHERE ${where}${condition ? ` AND ${condition.text}` : ""}`,
    parameters: [...TEAM_SCOPE.map((p) => ({ name: `@${p}`, value: values[p] })), ...(condition?.parameters ?? [])],
  };
}

/** One page of a team's operations: the scope, the caller's $filter, and its $orderby after the scope. */
export function teamPageQuery(
  tenantId: string,
  teamId: string,
  query: { readonly filter: FilterNode | undefined; readonly orderBy: OrderBy | undefined },
): StoreQuery {
  const scope = teamScope(tenantId, teamId, query.filter);
  const [first] = query.orderBy ?? [];
  const keys = first ? [...TEAM_SCOPE.map((property) => ({ ...first, property })), ...query.orderBy!] : [];
  const order = first ? ` ORDER BY ${keys.map((k) => `c.${k.property} ${k.direction.toUpperCase()}`).join(", ")}` : "";
  return { query: `SELECT * FROM c ${scope.query}${order}`, parameters: scope.parameters };
}

/** How many of a team's operations match the caller's $filter. */
export function teamCountQuery(tenantId: string, teamId: string, filter: FilterNode | undefined): StoreQuery {
  const scope = teamScope(tenantId, teamId, filter);
  return { query: `SELECT VALUE COUNT(1) FROM c ${scope.query}`, parameters: scope.parameters };
}

/**
 * Operations of one running status, of every tenant and team, that no one has written since the cutoff, by the
 * store's own clock (`_ts`, the time of the last write in whole seconds), never a client's: an equality and a range,
 * the shape the composite index (status, _ts) serves. (An OR of both statuses in one query is not a shape a
 * composite index is documented to serve.)
 */
export function staleQuery(status: (typeof RUNNING_STATUSES)[number], cutoff: Date): StoreQuery {
  return {
    query: "SELECT * FROM c WHERE c.status = @status AND c._ts < @cutoff",
    parameters: [
      { name: "@status", value: status },
      { name: "@cutoff", value: Math.floor(cutoff.getTime() / 1000) },
    ],
  };
}
