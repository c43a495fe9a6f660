/**
 * A query over a team's operations, as data: what `http/odata.ts` parses a request's query options into, what the
 * store translates to Cosmos DB SQL (`store/operationQuery.ts`), and what the in-memory store of the tests
 * evaluates. Every property in it is one the API lets a caller filter or sort on; every value is checked.
 */
import type { RepresentationProperty } from "./model.js";

export type EnumProperty = "status" | "operationType";
export type DateProperty = "createdDateTime" | "lastActionDateTime";
export type ComparisonOperator = "eq" | "ne" | "gt" | "ge" | "lt" | "le";

/** One comparison of a property with a value: an enum member, or a date-time in canonical UTC. */
export interface Comparison {
  readonly kind: "compare";
  readonly property: EnumProperty | DateProperty;
  readonly operator: ComparisonOperator;
  readonly value: string;
}

/** What each comparison operator means, for values that compare (an enum member's position, canonical UTC text). */
export const COMPARE: Record<ComparisonOperator, <T extends number | string>(a: T, b: T) => boolean> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
};

/** A $filter: comparisons under `and`, `or` and `not`. */
export type FilterNode =
  | { readonly kind: "and" | "or"; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly kind: "not"; readonly operand: FilterNode }
  | Comparison;

/** One key of an $orderby. */
export interface SortKey {
  readonly property: DateProperty;
  readonly direction: "asc" | "desc";
}

/** An $orderby: one or two keys, each property once. */
export type OrderBy = readonly SortKey[];

/** A request for a collection of operations: the page, the filter, the order and the properties to return. */
export interface CollectionQuery {
  readonly top: number;
  readonly skipToken: string | undefined;
  readonly count: boolean;
  readonly filter: FilterNode | undefined;
  readonly orderBy: OrderBy | undefined;
  readonly select: readonly RepresentationProperty[] | undefined;
}
