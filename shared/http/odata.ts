/**
 * OData query options for the operations collection: $top, $skiptoken,
 * $count, $filter, $orderby and $select, parsed into a small, checked form;
 * for one operation, $select; for `$count`, $filter. System query option
 * names are case-insensitive (OData 4.01). Anything
 * unsupported or malformed is a 400 naming the option and the reason
 * (`notSupported` for what Graph has and this API does not); nothing is
 * ignored. The result is the query as data (`../operations/query.ts`); the
 * store translates it (`../store/operationQuery.ts`).
 */
import { badRequest, notSupported } from "./graphError.js";
import {
  isEvolvableMember,
  OPERATION_STATUSES,
  OPERATION_TYPES,
  REPRESENTATION_PROPERTIES,
  SORTABLE_PROPERTIES,
  UNKNOWN_FUTURE_VALUE,
  type RepresentationProperty,
} from "../operations/model.js";
import {
  COMPARE,
  type CollectionQuery,
  type ComparisonOperator,
  type DateProperty,
  type EnumProperty,
  type FilterNode,
  type OrderBy,
  type SortKey,
} from "../operations/query.js";
import { toCanonicalUtc } from "../operations/timestamps.js";
import { orNesting } from "../store/operationQuery.js";

export const PAGE_SIZE = { default: 20, max: 100 } as const;
/**
 * What a $filter may hold. `orNesting` bounds the only nesting left in the SQL (an `or` group inside an `and`):
 * the embedded store's SQL parser backtracks into every parenthesised group several times, so its work grows about
 * eightfold per level (see docs/reliability.md); the rest of the translation is flat.
 */
export const FILTER_LIMITS = { length: 1024, depth: 8, comparisons: 16, orNesting: 2 } as const;

/** The system query options OData 4.01 and Graph define; those this API does not support are `notSupported`. */
const SYSTEM_QUERY_OPTIONS = [
  "$filter",
  "$select",
  "$expand",
  "$orderby",
  "$top",
  "$skip",
  "$count",
  "$search",
  "$format",
  "$skiptoken",
  "$deltatoken",
  "$apply",
  "$compute",
  "$index",
  "$schemaversion",
  "$levels",
  "$id",
] as const;
type SystemQueryOption = (typeof SYSTEM_QUERY_OPTIONS)[number];

const COLLECTION_OPTIONS = new Set<SystemQueryOption>([
  "$top",
  "$skiptoken",
  "$count",
  "$filter",
  "$orderby",
  "$select",
]);
const ITEM_OPTIONS = new Set<SystemQueryOption>(["$select"]);
const COUNT_OPTIONS = new Set<SystemQueryOption>(["$filter"]);
/** Options this API supports somewhere (on another kind of request they are a plain 400, not notSupported). */
const SUPPORTED_ANYWHERE = COLLECTION_OPTIONS;

/** How many keys an $orderby may have: each shape has its composite index. */
export const MAX_SORT_KEYS = 2;

const invalid = (option: string, reason: string) =>
  badRequest(`Invalid ${option}: ${reason}`, {
    target: option,
    details: [{ code: "invalidQueryOption", target: option, message: reason }],
  });

const unsupported = (option: string, reason: string) =>
  notSupported(`Not supported in ${option}: ${reason}`, {
    target: option,
    details: [{ code: "notSupported", target: option, message: reason }],
  });

// ---------------------------------------------------------------- $filter

type Token =
  | { type: "word"; text: string; at: number }
  /** A quoted string; `qualifier` is the type name of a qualified enum literal (`microsoft.graph.x'value'`). */
  | { type: "string"; text: string; at: number; qualifier?: string }
  | { type: "open"; at: number }
  | { type: "close"; at: number }
  | { type: "comma"; at: number };

/** Operators OData has and this API does not. */
const UNSUPPORTED_OPERATORS = new Set(["has", "add", "sub", "mul", "div", "divby", "mod"]);

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
    } else if (ch === ",") {
      tokens.push({ type: "comma", at: i });
      i++;
    } else if (ch === "/") {
      const lambda = /^\/\s*(any|all)\s*\(/.exec(text.slice(i));
      throw lambda
        ? unsupported("$filter", `the lambda operator '${lambda[1]}' is not supported.`)
        : unsupported("$filter", `paths into properties ('/' at position ${i + 1}) are not supported.`);
    } else if (ch === "$" || ch === "@") {
      const name = /^[$@][A-Za-z0-9_]*/.exec(text.slice(i))![0];
      throw unsupported("$filter", `'${name}' (at position ${i + 1}) is not supported.`);
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
      const previous = tokens[tokens.length - 1];
      // A word directly before the quote is an enum literal's type: microsoft.graph.teamsAsyncOperationStatus'failed'.
      if (previous?.type === "word" && previous.at + previous.text.length === i) {
        tokens[tokens.length - 1] = { type: "string", text: value, at: previous.at, qualifier: previous.text };
      } else {
        tokens.push({ type: "string", text: value, at: i });
      }
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
  if (token.type === "comma") return ",";
  return token.type === "string" && token.qualifier ? `${token.qualifier}'${token.text}'` : token.text;
}

const ENUM_PROPERTIES: Record<EnumProperty, { members: readonly string[]; type: string }> = {
  status: { members: OPERATION_STATUSES, type: "teamsAsyncOperationStatus" },
  operationType: { members: OPERATION_TYPES, type: "teamsAsyncOperationType" },
};
const DATE_PROPERTIES = new Set<string>(["createdDateTime", "lastActionDateTime"]);
const OPERATORS = new Set<string>(["eq", "ne", "gt", "ge", "lt", "le"]);
/** The most values an `in` list may hold. */
const IN_LIST_MAX = 16;

/**
 * The members an enum comparison matches, by Graph's evolvable-enum pattern
 * (microsoft/api-guidelines, graph/patterns/evolvable-enums.md): members
 * compare by their declared position. Without `Prefer:
 * include-unknown-enum-members` every member after `unknownFutureValue` is
 * seen as `unknownFutureValue`, so `eq unknownFutureValue` matches those
 * members (and `ne` the others, `ge` the same as `gt`, `le` everything);
 * with the preference `unknownFutureValue` is only the sentinel, which no
 * operation holds. The sentinel itself is never a match: no operation holds it.
 */
export function enumMatches(
  members: readonly string[],
  operator: ComparisonOperator,
  value: string,
  includeUnknownEnumMembers: boolean,
): string[] {
  const sentinel = members.indexOf(UNKNOWN_FUTURE_VALUE);
  const target = members.indexOf(value);
  const candidates = members.map((member, index) => ({ member, index })).filter((m) => m.index !== sentinel);
  if (value === UNKNOWN_FUTURE_VALUE && !includeUnknownEnumMembers) {
    const folded = (index: number) => (index > sentinel ? "sentinel" : "known");
    const test: Record<ComparisonOperator, (index: number) => boolean> = {
      eq: (index) => folded(index) === "sentinel",
      ne: (index) => folded(index) === "known",
      gt: (index) => index > sentinel,
      ge: (index) => index > sentinel,
      lt: (index) => index < sentinel,
      le: () => true,
    };
    return candidates.filter((m) => test[operator](m.index)).map((m) => m.member);
  }
  return candidates.filter((m) => COMPARE[operator](m.index, target)).map((m) => m.member);
}

/** A balanced tree of `kind` over the nodes, so a long list nests only log2(n) deep. */
function balanced(kind: "and" | "or", nodes: readonly FilterNode[]): FilterNode {
  if (nodes.length === 1) return nodes[0]!;
  const middle = Math.ceil(nodes.length / 2);
  return { kind, left: balanced(kind, nodes.slice(0, middle)), right: balanced(kind, nodes.slice(middle)) };
}

/**
 * The filter for "the property holds one of `matched`", in as few comparisons as the smaller side needs:
 * eq-comparisons joined by `or`, or ne-comparisons of the rest joined by `and`. Nothing and everything
 * compare with the sentinel, which no operation holds.
 */
function enumCondition(property: EnumProperty, matched: readonly string[]): FilterNode {
  const compare = (operator: "eq" | "ne", value: string): FilterNode => ({
    kind: "compare",
    property,
    operator,
    value,
  });
  const others = ENUM_PROPERTIES[property].members.filter((m) => m !== UNKNOWN_FUTURE_VALUE && !matched.includes(m));
  if (matched.length === 0) return compare("eq", UNKNOWN_FUTURE_VALUE);
  if (others.length === 0) return compare("ne", UNKNOWN_FUTURE_VALUE);
  return matched.length <= others.length
    ? balanced(
        "or",
        matched.map((m) => compare("eq", m)),
      )
    : balanced(
        "and",
        others.map((m) => compare("ne", m)),
      );
}

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
    const node = this.#chain("or", 0);
    const rest = this.#tokens[this.#position];
    if (rest) throw invalid("$filter", `unexpected '${describe(rest)}' at position ${rest.at + 1}.`);
    return node;
  }

  #peekWord(word: string): boolean {
    const token = this.#tokens[this.#position];
    return token?.type === "word" && token.text === word;
  }

  /** A left-associative chain of `or` over `and` terms, or of `and` over unary ones (`and` binds tighter). */
  #chain(kind: "or" | "and", depth: number): FilterNode {
    const term = () => (kind === "or" ? this.#chain("and", depth) : this.#unary(depth));
    let node = term();
    while (this.#peekWord(kind)) {
      this.#position++;
      node = { kind, left: node, right: term() };
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
      const node = this.#chain("or", depth + 1);
      if (this.#tokens[this.#position]?.type !== "close") throw invalid("$filter", "a '(' is not closed.");
      this.#position++;
      return node;
    }
    return this.#comparison();
  }

  #comparison(): FilterNode {
    const [property, operator] = this.#tokens.slice(this.#position, this.#position + 2);
    if (!property) throw invalid("$filter", "the expression ends where a comparison was expected.");
    if (property.type !== "word") {
      throw invalid("$filter", `expected a property name at position ${property.at + 1}.`);
    }
    if (operator?.type === "open") throw unsupported("$filter", `the function '${property.text}' is not supported.`);
    const isEnum = property.text in ENUM_PROPERTIES;
    if (!isEnum && !DATE_PROPERTIES.has(property.text)) {
      throw invalid(
        "$filter",
        `the property '${property.text}' cannot be filtered on; use status, operationType, createdDateTime or lastActionDateTime.`,
      );
    }
    if (operator?.type === "word" && UNSUPPORTED_OPERATORS.has(operator.text)) {
      throw unsupported("$filter", `the operator '${operator.text}' is not supported.`);
    }
    if (operator?.type !== "word" || !(OPERATORS.has(operator.text) || operator.text === "in")) {
      throw invalid(
        "$filter",
        `expected eq, ne, gt, ge, lt, le or in after '${property.text}'${operator ? `, not '${describe(operator)}'` : ""}.`,
      );
    }
    this.#position += 2;
    const values = operator.text === "in" ? this.#list(property.text) : [this.#value(property.text, operator.text)];
    this.#comparisons += values.length;
    if (this.#comparisons > FILTER_LIMITS.comparisons) {
      throw invalid("$filter", `more than ${FILTER_LIMITS.comparisons} comparisons.`);
    }
    // `in` is a list of eq comparisons.
    const op = (operator.text === "in" ? "eq" : operator.text) as ComparisonOperator;
    if (isEnum) {
      const name = property.text as EnumProperty;
      const matched = new Set(values.flatMap((value) => this.#enumValue(name, op, value)));
      return enumCondition(
        name,
        ENUM_PROPERTIES[name].members.filter((m) => matched.has(m)),
      );
    }
    const compares = values.map((value): FilterNode => {
      const canonical = value.type === "word" ? toCanonicalUtc(value.text) : undefined;
      if (!canonical) {
        throw invalid(
          "$filter",
          `'${property.text}' must be compared with an unquoted date-time such as 2026-01-01T00:00:00Z.`,
        );
      }
      return { kind: "compare", property: property.text as DateProperty, operator: op, value: canonical };
    });
    return balanced("or", compares);
  }

  /** One value token after `property operator`. */
  #value(property: string, operator: string): Token {
    const value = this.#tokens[this.#position];
    if (!value || value.type === "open" || value.type === "close" || value.type === "comma") {
      throw invalid("$filter", `a value is missing after '${property} ${operator}'.`);
    }
    if (value.type === "word" && this.#tokens[this.#position + 1]?.type === "open") {
      throw unsupported("$filter", `the function '${value.text}' is not supported.`);
    }
    this.#position++;
    return value;
  }

  /** The parenthesised, comma-separated values after `property in`. */
  #list(property: string): Token[] {
    if (this.#tokens[this.#position]?.type !== "open") {
      throw invalid("$filter", `'${property} in' must be followed by a list of values in parentheses.`);
    }
    this.#position++;
    const values: Token[] = [];
    for (;;) {
      values.push(this.#value(property, "in"));
      if (values.length > IN_LIST_MAX) throw invalid("$filter", `an 'in' list holds at most ${IN_LIST_MAX} values.`);
      const next = this.#tokens[this.#position];
      this.#position++;
      if (next?.type === "close") return values;
      if (next?.type !== "comma") throw invalid("$filter", `an 'in' list after '${property}' is not closed.`);
    }
  }

  /** The members one enum comparison matches; a 400 for a value that is not a member the client may use. */
  #enumValue(name: EnumProperty, op: ComparisonOperator, value: Token): string[] {
    const { members, type } = ENUM_PROPERTIES[name];
    const include = this.#includeUnknownEnumMembers;
    const allowed = members.filter((m) => include || !isEvolvableMember(members, m));
    if (value.type !== "string") {
      throw invalid(
        "$filter",
        `'${name}' must be compared with a quoted value (or microsoft.graph.${type}'value'), one of: ${allowed.join(", ")}.`,
      );
    }
    if (
      value.qualifier !== undefined &&
      value.qualifier !== `microsoft.graph.${type}` &&
      value.qualifier !== `graph.${type}`
    ) {
      throw invalid("$filter", `'${name}' is a microsoft.graph.${type}, not a ${value.qualifier}.`);
    }
    if (members.includes(value.text) && !allowed.includes(value.text)) {
      throw invalid(
        "$filter",
        `the value '${value.text}' of '${name}' needs the request header 'Prefer: include-unknown-enum-members'.`,
      );
    }
    if (!allowed.includes(value.text)) {
      throw invalid("$filter", `'${name}' must be compared with one of: ${allowed.join(", ")}.`);
    }
    return enumMatches(members, op, value.text, include);
  }
}

export function parseFilter(text: string, includeUnknownEnumMembers: boolean): FilterNode {
  if (text.length > FILTER_LIMITS.length) throw invalid("$filter", `longer than ${FILTER_LIMITS.length} characters.`);
  const node = new FilterParser(text, includeUnknownEnumMembers).parse();
  if (orNesting(node) > FILTER_LIMITS.orNesting) {
    throw invalid(
      "$filter",
      `'or' groups nest more than ${FILTER_LIMITS.orNesting} deep; the deepest allowed is like a or (b and (c or d)).`,
    );
  }
  return node;
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

const SORT_KEY = new RegExp(`^\\s*(${SORTABLE_PROPERTIES.join("|")})(?:\\s+(asc|desc))?\\s*$`);

function parseOrderBy(raw: string | undefined): OrderBy | undefined {
  if (raw === undefined) return undefined;
  const items = raw.split(",");
  if (items.length > MAX_SORT_KEYS) throw invalid("$orderby", `at most ${MAX_SORT_KEYS} properties.`);
  const keys = items.map((item): SortKey => {
    const match = SORT_KEY.exec(item);
    if (!match) {
      throw invalid(
        "$orderby",
        `each key must be ${SORTABLE_PROPERTIES.join(" or ")}, optionally followed by asc or desc (at most ${MAX_SORT_KEYS}, comma-separated).`,
      );
    }
    return { property: match[1] as DateProperty, direction: (match[2] as "asc" | "desc" | undefined) ?? "asc" };
  });
  if (new Set(keys.map((k) => k.property)).size < keys.length) {
    throw invalid("$orderby", "a property is given twice.");
  }
  return keys;
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

/**
 * The system query options of a query string, by their canonical name (`$filter`): names are
 * case-insensitive, as OData 4.01 says. Parameters that are not OData options (no `$`) are
 * ignored, as Graph does. An option given twice, one this API does not support at all (`notSupported`),
 * one that does not apply to this kind of request, or an unknown `$` name is a 400 naming it.
 */
function systemQueryOptions(
  query: URLSearchParams,
  allowed: ReadonlySet<SystemQueryOption>,
  where: string,
): Map<SystemQueryOption, string> {
  const options = new Map<SystemQueryOption, string>();
  for (const [key, value] of query) {
    if (!key.startsWith("$")) continue; // Graph ignores parameters that are not OData options.
    const lower = key.toLowerCase();
    const name = SYSTEM_QUERY_OPTIONS.find((o) => o === lower);
    if (!name) throw invalid(key, `${key} is not an OData system query option.`);
    if (!allowed.has(name)) {
      const supported = [...allowed].join(", ");
      if (!SUPPORTED_ANYWHERE.has(name)) {
        throw unsupported(name, `the query option ${name} is not supported by this API; ${where} takes ${supported}.`);
      }
      throw invalid(name, `the query option ${name} does not apply here; ${where} takes ${supported}.`);
    }
    if (options.has(name)) throw invalid(name, "the option is given more than once.");
    options.set(name, value);
  }
  return options;
}

/** Parses the query string of a collection request; a 400 for anything unsupported or malformed. */
export function parseCollectionQuery(query: URLSearchParams, includeUnknownEnumMembers: boolean): CollectionQuery {
  const options = systemQueryOptions(query, COLLECTION_OPTIONS, "a collection");
  const filterText = options.get("$filter");
  const skipToken = options.get("$skiptoken");
  if (skipToken !== undefined && (skipToken.length === 0 || skipToken.length > 8192)) {
    throw invalid("$skiptoken", "the token is not one this service issued.");
  }
  return {
    top: parseTop(options.get("$top")),
    skipToken,
    count: parseCount(options.get("$count")),
    filter: filterText === undefined ? undefined : parseFilter(filterText, includeUnknownEnumMembers),
    orderBy: parseOrderBy(options.get("$orderby")),
    select: parseSelect(options.get("$select")),
  };
}

/** Parses the query string of a request for one operation: only $select applies. */
export function parseItemQuery(query: URLSearchParams): {
  readonly select: readonly RepresentationProperty[] | undefined;
} {
  return { select: parseSelect(systemQueryOptions(query, ITEM_OPTIONS, "a single operation").get("$select")) };
}

/** Parses the query string of a `.../operations/$count` request: only $filter applies. */
export function parseCountQuery(
  query: URLSearchParams,
  includeUnknownEnumMembers: boolean,
): { readonly filter: FilterNode | undefined } {
  const filterText = systemQueryOptions(query, COUNT_OPTIONS, "$count").get("$filter");
  return { filter: filterText === undefined ? undefined : parseFilter(filterText, includeUnknownEnumMembers) };
}
