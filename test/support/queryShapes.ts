/**
 * Every query the store can emit, found rather than listed: the OData parser
 * (shared/http/odata.ts) is asked which property, operator and $orderby
 * combinations it accepts, out of every property an operation has and every
 * OData comparison operator, and the store's own query builders
 * (shared/store/operationQuery.ts) turn each accepted input into the SQL it
 * sends. A property that becomes filterable or sortable therefore shows up
 * here by itself, and test/infra/indexing.test.ts then requires its index.
 */
import type { SqlQuerySpec } from "@azure/cosmos";
import { parseCollectionQuery, parseFilter } from "../../shared/http/odata.js";
import {
  OPERATION_STATUSES,
  OPERATION_TYPES,
  REPRESENTATION_PROPERTIES,
  type OperationDocument,
} from "../../shared/operations/model.js";
import type { FilterNode, OrderBy } from "../../shared/operations/query.js";
import {
  filterToSql,
  RUNNING_STATUSES,
  staleQuery,
  teamCountQuery,
  teamPageQuery,
  type SqlCondition,
} from "../../shared/store/operationQuery.js";

/** Every property name an operation has: its Graph representation and the stored document's own fields. */
const DOCUMENT_FIELDS: readonly (keyof OperationDocument)[] = [
  "id",
  "teamId",
  "tenantId",
  "operationId",
  "createdBy",
  "repeatability",
  "ttl",
];
export const CANDIDATE_PROPERTIES: readonly string[] = [...new Set([...REPRESENTATION_PROPERTIES, ...DOCUMENT_FIELDS])];

/** OData's comparison and membership operators (OData v4.01 URL conventions, 5.1.1.1). */
const ODATA_OPERATORS = ["eq", "ne", "gt", "ge", "lt", "le", "has", "in"] as const;

/** Literals of every kind a comparison might take, tried in turn. */
const CANDIDATE_VALUES: readonly string[] = [
  ...OPERATION_STATUSES.map((s) => `'${s}'`),
  ...OPERATION_TYPES.map((t) => `'${t}'`),
  "'x'",
  "2026-01-01T00:00:00Z",
  "0",
  "true",
  "null",
];

export interface Comparison {
  readonly property: string;
  readonly operator: string;
  /** The $filter text the parser accepted. */
  readonly filter: string;
}

const accepts = (filter: string) => {
  try {
    parseFilter(filter, true);
    return true;
  } catch {
    return false;
  }
};

/** Each (property, operator) the $filter parser accepts, with one filter text that uses it. */
export function acceptedComparisons(): Comparison[] {
  const found: Comparison[] = [];
  for (const property of CANDIDATE_PROPERTIES) {
    for (const operator of ODATA_OPERATORS) {
      const filter = CANDIDATE_VALUES.map((v) => `${property} ${operator} ${v}`).find(accepts);
      if (filter) found.push({ property, operator, filter });
    }
  }
  return found;
}

/** An $orderby as its query option's text. */
export const orderByText = (orderBy: OrderBy) => orderBy.map((k) => `${k.property} ${k.direction}`).join(",");

/** Each $orderby the parser accepts: one property or two, each in either direction. */
export function acceptedSorts(): OrderBy[] {
  const keys = CANDIDATE_PROPERTIES.flatMap((property) =>
    (["asc", "desc"] as const).map((direction) => `${property} ${direction}`),
  );
  const candidates = [...keys, ...keys.flatMap((first) => keys.map((second) => `${first},${second}`))];
  const found: OrderBy[] = [];
  for (const text of candidates) {
    try {
      const query = parseCollectionQuery(new URLSearchParams({ $orderby: text }), true);
      if (query.orderBy) found.push(query.orderBy);
    } catch {
      // Not sortable.
    }
  }
  return found;
}

export interface QueryShape {
  readonly label: string;
  readonly spec: SqlQuerySpec;
  /** The caller's $filter condition within the query, if any (the rest is the store's own). */
  readonly condition: SqlCondition | undefined;
}

const TENANT = "00000000-0000-0000-0000-0000000000t1";
const TEAM = "00000000-0000-0000-0000-0000000000g1";

/** Every query the store can send: pages and counts under each accepted filter and sort, and the sweeper's. */
export function storeQueryShapes(): QueryShape[] {
  const comparisons = acceptedComparisons();
  const filters: { label: string; filter: FilterNode | undefined }[] = [
    { label: "no $filter", filter: undefined },
    ...comparisons.map((c) => ({ label: `$filter=${c.filter}`, filter: parseFilter(c.filter, true) })),
  ];
  // Combinations: each comparison with the next, by and and by or (all of them at once would pass the limit on
  // comparisons, since an enum comparison or an `in` counts once per member it expands to).
  for (let i = 0; i + 1 < comparisons.length; i++) {
    for (const joiner of [" and ", " or "]) {
      const filter = `(${comparisons[i]!.filter})${joiner}(${comparisons[i + 1]!.filter})`;
      filters.push({ label: `$filter=${filter}`, filter: parseFilter(filter, true) });
    }
  }
  const sorts: (OrderBy | undefined)[] = [undefined, ...acceptedSorts()];
  const shapes: QueryShape[] = [];
  for (const { label, filter } of filters) {
    const condition = filter ? filterToSql(filter) : undefined;
    for (const orderBy of sorts) {
      shapes.push({
        label: `page, ${label}, ${orderBy ? `$orderby=${orderByText(orderBy)}` : "no $orderby"}`,
        spec: teamPageQuery(TENANT, TEAM, { filter, orderBy }),
        condition,
      });
    }
    shapes.push({ label: `count, ${label}`, spec: teamCountQuery(TENANT, TEAM, filter), condition });
  }
  for (const status of RUNNING_STATUSES) {
    shapes.push({
      label: `sweeper, ${status}`,
      spec: staleQuery(status, new Date("2026-01-01T00:00:00Z")),
      condition: undefined,
    });
  }
  return shapes;
}
