/**
 * OData query options for the operations collection: $top, $skiptoken,
 * $count, $filter, $orderby and $select, parsed into a small, checked form.
 * Anything unsupported or malformed is a 400 naming the option and the
 * reason; nothing is ignored. The filter becomes a parameterised Cosmos DB
 * SQL condition over whitelisted properties: caller text never reaches SQL.
 */
import { badRequest } from "./graphError.js";
import {
  acceptedMembers,
  OPERATION_STATUSES,
  OPERATION_TYPES,
  REPRESENTATION_PROPERTIES,
  type RepresentationProperty,
} from "../operations/model.js";
import { toCanonicalUtc } from "../operations/timestamps.js";

export const PAGE_SIZE = { default: 20, max: 100 } as const;
/**
 * What a $filter may hold. `orNesting` bounds the only nesting left in the SQL (an `or` group inside an `and`):
 * the embedded store's SQL parser backtracks into every parenthesised group several times, so its work grows about
 * eightfold per level (see docs/reliability.md); the rest of the translation is flat.
 */
export const FILTER_LIMITS = { length: 1024, depth: 8, comparisons: 16, orNesting: 2 } as const;

const SUPPORTED = new Set(["$top", "$skiptoken", "$count", "$filter", "$orderby", "$select"]);

type EnumProperty = "status" | "operationType";
type DateProperty = "createdDateTime" | "lastActionDateTime";
type ComparisonOperator = "eq" | "ne" | "gt" | "ge" | "lt" | "le";

export type FilterNode =
  | { kind: "and" | "or"; left: FilterNode; right: FilterNode }
  | { kind: "not"; operand: FilterNode }
  | { kind: "compare"; property: EnumProperty | DateProperty; operator: ComparisonOperator; value: string };

export interface OrderBy {
  readonly property: DateProperty;
  readonly direction: "asc" | "desc";
}

export interface CollectionQuery {
  readonly top: number;
  readonly skipToken: string | undefined;
  readonly count: boolean;
  readonly filter: FilterNode | undefined;
  readonly orderBy: OrderBy | undefined;
  readonly select: readonly RepresentationProperty[] | undefined;
}

const invalid = (option: string, reason: string) =>
  badRequest(`Invalid ${option}: ${reason}`, {
    target: option,
    details: [{ code: "invalidQueryOption", target: option, message: reason }],
  });

// ---------------------------------------------------------------- $filter

type Token =
  | { type: "word"; text: string; at: number }
  | { type: "string"; text: string; at: number }
  | { type: "open"; at: number }
  | { type: "close"; at: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === " " || ch === "\t") {
      i++;
    } else if (ch === "(" || ch === ")") {
      tokens.push(ch === "(" ? { type: "open", at: i } : { type: "close", at: i });
      i++;
    } else if (ch === "'") {
      let value = "";
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw invalid("$filter", `unterminated string starting at position ${i + 1}.`);
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += text[j];
        j++;
      }
      tokens.push({ type: "string", text: value, at: i });
      i = j + 1;
    } else {
      const match = /^[A-Za-z0-9_.:+-]+/.exec(text.slice(i));
      if (!match) throw invalid("$filter", `unexpected character '${ch}' at position ${i + 1}.`);
      tokens.push({ type: "word", text: match[0], at: i });
      i += match[0].length;
    }
  }
  return tokens;
}

function describe(token: Token): string {
  if (token.type === "open") return "(";
  if (token.type === "close") return ")";
  return token.text;
}

const ENUM_PROPERTIES: Record<EnumProperty, readonly string[]> = {
  status: OPERATION_STATUSES,
  operationType: OPERATION_TYPES,
};
const DATE_PROPERTIES = new Set<string>(["createdDateTime", "lastActionDateTime"]);
const OPERATORS = new Set<string>(["eq", "ne", "gt", "ge", "lt", "le"]);

class FilterParser {
  #tokens: Token[];
  #position = 0;
  #comparisons = 0;
  readonly #includeUnknownEnumMembers: boolean;

  constructor(text: string, includeUnknownEnumMembers: boolean) {
    this.#tokens = tokenize(text);
    this.#includeUnknownEnumMembers = includeUnknownEnumMembers;
  }

  parse(): FilterNode {
    if (this.#tokens.length === 0) throw invalid("$filter", "the expression is empty.");
    const node = this.#or(0);
    const rest = this.#tokens[this.#position];
    if (rest) throw invalid("$filter", `unexpected '${describe(rest)}' at position ${rest.at + 1}.`);
    return node;
  }

  #peekWord(word: string): boolean {
    const token = this.#tokens[this.#position];
    return token?.type === "word" && token.text === word;
  }

  #or(depth: number): FilterNode {
    let node = this.#and(depth);
    while (this.#peekWord("or")) {
      this.#position++;
      node = { kind: "or", left: node, right: this.#and(depth) };
    }
    return node;
  }

  #and(depth: number): FilterNode {
    let node = this.#unary(depth);
    while (this.#peekWord("and")) {
      this.#position++;
      node = { kind: "and", left: node, right: this.#unary(depth) };
    }
    return node;
  }

  #unary(depth: number): FilterNode {
    if (depth > FILTER_LIMITS.depth) throw invalid("$filter", `nesting deeper than ${FILTER_LIMITS.depth} levels.`);
    if (this.#peekWord("not")) {
      this.#position++;
      return { kind: "not", operand: this.#unary(depth + 1) };
    }
    const token = this.#tokens[this.#position];
    if (token?.type === "open") {
      this.#position++;
      const node = this.#or(depth + 1);
      if (this.#tokens[this.#position]?.type !== "close") throw invalid("$filter", "a '(' is not closed.");
      this.#position++;
      return node;
    }
    return this.#comparison();
  }

  #comparison(): FilterNode {
    const [property, operator, value] = this.#tokens.slice(this.#position, this.#position + 3);
    if (!property) throw invalid("$filter", "the expression ends where a comparison was expected.");
    if (property.type !== "word") {
      throw invalid("$filter", `expected a property name at position ${property.at + 1}.`);
    }
    const next = this.#tokens[this.#position + 1];
    if (next?.type === "open") throw invalid("$filter", `the function '${property.text}' is not supported.`);
    const isEnum = property.text in ENUM_PROPERTIES;
    if (!isEnum && !DATE_PROPERTIES.has(property.text)) {
      throw invalid(
        "$filter",
        `the property '${property.text}' cannot be filtered on; use status, operationType, createdDateTime or lastActionDateTime.`,
      );
    }
    if (operator?.type !== "word" || !OPERATORS.has(operator.text)) {
      throw invalid(
        "$filter",
        `expected eq, ne, gt, ge, lt or le after '${property.text}'${operator ? `, not '${describe(operator)}'` : ""}.`,
      );
    }
    if (!value || value.type === "open" || value.type === "close") {
      throw invalid("$filter", `a value is missing after '${property.text} ${operator.text}'.`);
    }
    if (++this.#comparisons > FILTER_LIMITS.comparisons) {
      throw invalid("$filter", `more than ${FILTER_LIMITS.comparisons} comparisons.`);
    }
    this.#position += 3;
    const op = operator.text as ComparisonOperator;
    if (isEnum) {
      const name = property.text as EnumProperty;
      if (op !== "eq" && op !== "ne") throw invalid("$filter", `'${name}' supports only eq and ne.`);
      const allowed = acceptedMembers(ENUM_PROPERTIES[name], this.#includeUnknownEnumMembers);
      if (value.type !== "string" || !allowed.includes(value.text)) {
        throw invalid("$filter", `'${name}' must be compared with a quoted value, one of: ${allowed.join(", ")}.`);
      }
      return { kind: "compare", property: name, operator: op, value: value.text };
    }
    const canonical = value.type === "word" ? toCanonicalUtc(value.text) : undefined;
    if (!canonical) {
      throw invalid(
        "$filter",
        `'${property.text}' must be compared with an unquoted date-time such as 2026-01-01T00:00:00Z.`,
      );
    }
    return { kind: "compare", property: property.text as DateProperty, operator: op, value: canonical };
  }
}

export function parseFilter(text: string, includeUnknownEnumMembers: boolean): FilterNode {
  if (text.length > FILTER_LIMITS.length) throw invalid("$filter", `longer than ${FILTER_LIMITS.length} characters.`);
  const node = new FilterParser(text, includeUnknownEnumMembers).parse();
  if (orNesting(normalise(node)) > FILTER_LIMITS.orNesting) {
    throw invalid(
      "$filter",
      `'or' groups nest more than ${FILTER_LIMITS.orNesting} deep; the deepest allowed is like a or (b and (c or d)).`,
    );
  }
  return node;
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

type Comparison = Extract<FilterNode, { kind: "compare" }>;
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

/** How many `or` groups the SQL nests (the condition is ANDed with the tenant and team, so a top `or` counts). */
function orNesting(node: FlatNode): number {
  if (node.kind === "compare") return 0;
  const inner = Math.max(...node.operands.map(orNesting));
  return node.kind === "or" ? inner + 1 : inner;
}

export interface SqlCondition {
  /** A condition over `c` that can be ANDed with others as it is. */
  readonly text: string;
  readonly parameters: Array<{ name: string; value: string }>;
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

// ---------------------------------------------------------------- the rest

function parseTop(raw: string | undefined): number {
  if (raw === undefined) return PAGE_SIZE.default;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1 || Number(raw) > PAGE_SIZE.max) {
    throw invalid("$top", `must be a whole number from 1 to ${PAGE_SIZE.max}.`);
  }
  return Number(raw);
}

function parseCount(raw: string | undefined): boolean {
  if (raw === undefined || raw === "false") return false;
  if (raw === "true") return true;
  throw invalid("$count", "must be true or false.");
}

function parseOrderBy(raw: string | undefined): OrderBy | undefined {
  if (raw === undefined) return undefined;
  const match = /^\s*(createdDateTime|lastActionDateTime)(?:\s+(asc|desc))?\s*$/.exec(raw);
  if (!match) {
    throw invalid(
      "$orderby",
      "must be one of createdDateTime or lastActionDateTime, optionally followed by asc or desc.",
    );
  }
  return { property: match[1] as DateProperty, direction: (match[2] as "asc" | "desc" | undefined) ?? "asc" };
}

function parseSelect(raw: string | undefined): RepresentationProperty[] | undefined {
  if (raw === undefined) return undefined;
  const names = raw.split(",").map((s) => s.trim());
  const unknown = names.filter((n) => !(REPRESENTATION_PROPERTIES as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw invalid("$select", `unknown properties: ${unknown.map((n) => `'${n}'`).join(", ") || "(empty)"}.`);
  }
  // Keep Graph's property order whatever order the client listed them in.
  return REPRESENTATION_PROPERTIES.filter((p) => names.includes(p));
}

/** Parses the query string of a collection request; a 400 for anything unsupported or malformed. */
export function parseCollectionQuery(query: URLSearchParams, includeUnknownEnumMembers: boolean): CollectionQuery {
  const seen = new Set<string>();
  for (const key of query.keys()) {
    if (!key.startsWith("$")) continue; // Graph ignores parameters that are not OData options.
    if (!SUPPORTED.has(key)) {
      throw invalid(key, `the query option ${key} is not supported here; supported: ${[...SUPPORTED].join(", ")}.`);
    }
    if (seen.has(key)) throw invalid(key, "the option is given more than once.");
    seen.add(key);
  }
  const value = (name: string) => query.get(name) ?? undefined;
  const filterText = value("$filter");
  const skipToken = value("$skiptoken");
  if (skipToken !== undefined && (skipToken.length === 0 || skipToken.length > 8192)) {
    throw invalid("$skiptoken", "the token is not one this service issued.");
  }
  return {
    top: parseTop(value("$top")),
    skipToken,
    count: parseCount(value("$count")),
    filter: filterText === undefined ? undefined : parseFilter(filterText, includeUnknownEnumMembers),
    orderBy: parseOrderBy(value("$orderby")),
    select: parseSelect(value("$select")),
  };
}
