/**
 * fast-check arbitraries for the operations API: valid create and update
 * bodies, RFC 3339 date-times with offsets (and the instant they denote),
 * and $filter expressions with the AST they should parse to.
 */
import { fc } from "@fast-check/vitest";
import { FILTER_LIMITS } from "../../shared/http/odata.js";
import type { FilterNode } from "../../shared/operations/query.js";
import { acceptedMembers, OPERATION_STATUSES, OPERATION_TYPES } from "../../shared/operations/model.js";
import { LIMITS } from "../../shared/operations/schema.js";

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** An RFC 3339 date-time with an offset, the instant it denotes (ms) and its canonical UTC form. */
export interface GeneratedDateTime {
  readonly text: string;
  readonly instantMs: number;
  readonly canonical: string;
}

// Away from the edges of 0001 and 9999, so any offset keeps both the local and the UTC year in range.
const MIN_MS = Date.parse("0001-01-02T00:00:00Z");
const MAX_MS = Date.parse("9999-12-30T23:59:59.999Z");

/** Any instant from 0001 to 9999, or one within `window` (epoch ms), written with any offset. */
export const dateTime = (window?: {
  readonly fromMs: number;
  readonly toMs: number;
}): fc.Arbitrary<GeneratedDateTime> =>
  fc
    .record({
      instantMs: fc.integer({ min: window?.fromMs ?? MIN_MS, max: window?.toMs ?? MAX_MS }),
      offsetMinutes: fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
      extraDigits: fc.stringMatching(/^\d{0,4}$/),
      zulu: fc.constantFrom("Z", "z", "+00:00", "-00:00"),
      useZulu: fc.boolean(),
      t: fc.constantFrom("T", "t"),
    })
    .map(({ instantMs, offsetMinutes, extraDigits, zulu, useZulu, t }) => {
      const offset = useZulu ? 0 : offsetMinutes;
      const local = new Date(instantMs + offset * 60_000);
      const ms = pad(local.getUTCMilliseconds(), 3);
      const fraction = `${ms}${extraDigits}`.replace(/0+$/, "");
      const sign = offset < 0 ? "-" : "+";
      const abs = Math.abs(offset);
      const suffix = useZulu ? zulu : `${sign}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`;
      const text =
        `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1, 2)}-${pad(local.getUTCDate(), 2)}` +
        `${t}${pad(local.getUTCHours(), 2)}:${pad(local.getUTCMinutes(), 2)}:${pad(local.getUTCSeconds(), 2)}` +
        `${fraction ? `.${fraction}` : ""}${suffix}`;
      const utc = new Date(instantMs);
      const canonical =
        `${pad(utc.getUTCFullYear(), 4)}-${pad(utc.getUTCMonth() + 1, 2)}-${pad(utc.getUTCDate(), 2)}` +
        `T${pad(utc.getUTCHours(), 2)}:${pad(utc.getUTCMinutes(), 2)}:${pad(utc.getUTCSeconds(), 2)}` +
        `.${`${ms}${extraDigits}`.padEnd(7, "0")}Z`;
      return { text, instantMs, canonical };
    });

/** Any Unicode text (well-formed: astral characters as surrogate pairs), up to a length in code points. */
export const text = (maxLength: number, minLength = 0) => fc.string({ unit: "binary", minLength, maxLength });

export const operationId = () => fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/);

/** Graph's operationError: a code, a message, both or neither (each may be null). */
const operationError = () =>
  fc.record(
    {
      code: fc.option(text(LIMITS.errorCode, 1), { nil: null }),
      message: fc.option(text(200, 1), { nil: null }),
    },
    { requiredKeys: [] },
  );

/**
 * A valid create body, with every optional property optional, consistent with the error rules (a failed operation's
 * error says something). Its lastActionDateTime is any the schema accepts: the rules keep every one.
 */
export const createBody = (includeUnknownEnumMembers = false) =>
  fc
    .record(
      {
        id: operationId(),
        operationType: fc.constantFrom(...acceptedMembers(OPERATION_TYPES, includeUnknownEnumMembers)),
        status: fc.constantFrom(...acceptedMembers(OPERATION_STATUSES, includeUnknownEnumMembers)),
        lastActionDateTime: dateTime().map((d) => d.text),
        attemptsCount: fc.integer({ min: 0, max: LIMITS.attemptsCount }),
        targetResourceId: fc.option(text(60), { nil: null }),
        targetResourceLocation: fc.option(text(120), { nil: null }),
        error: fc.option(operationError(), { nil: null }),
        "@odata.type": fc.constant("#microsoft.graph.teamsAsyncOperation"),
      },
      { requiredKeys: ["operationType"] },
    )
    .map((body) => {
      const out: Record<string, unknown> = { ...body };
      const error = out.error as { code?: string | null; message?: string | null } | null | undefined;
      if (out.status === "failed" && !error?.code && !error?.message) out.error = { code: "failed" };
      return out;
    });

/** A valid PATCH body (the schema's view; the state rules are not considered). */
export const updateBody = () =>
  fc.record(
    {
      status: fc.constantFrom(...acceptedMembers(OPERATION_STATUSES, false)),
      lastActionDateTime: dateTime().map((d) => d.text),
      attemptsCount: fc.integer({ min: 0, max: LIMITS.attemptsCount }),
      targetResourceId: fc.option(text(60), { nil: null }),
      targetResourceLocation: fc.option(text(120), { nil: null }),
      error: fc.option(operationError(), { nil: null }),
    },
    { requiredKeys: [] },
  );

// ---------------------------------------------------------------- $filter

export interface GeneratedFilter {
  readonly text: string;
  readonly ast: FilterNode;
  readonly comparisons: number;
}

const enumComparison = fc
  .record({
    property: fc.constantFrom("status" as const, "operationType" as const),
    operator: fc.constantFrom("eq" as const, "ne" as const),
    index: fc.nat(),
  })
  .map(({ property, operator, index }): GeneratedFilter => {
    const members = acceptedMembers(property === "status" ? OPERATION_STATUSES : OPERATION_TYPES, false);
    const value = members[index % members.length]!;
    return {
      text: `${property} ${operator} '${value}'`,
      ast: { kind: "compare", property, operator, value },
      comparisons: 1,
    };
  });

const dateComparison = fc
  .record({
    property: fc.constantFrom("createdDateTime" as const, "lastActionDateTime" as const),
    operator: fc.constantFrom("eq" as const, "ne" as const, "gt" as const, "ge" as const, "lt" as const, "le" as const),
    when: dateTime(),
  })
  .map(({ property, operator, when }): GeneratedFilter => ({
    text: `${property} ${operator} ${when.text}`,
    ast: { kind: "compare", property, operator, value: when.canonical },
    comparisons: 1,
  }));

/** Filters within the parser's limits, written with every binary node in parentheses. */
export const filter = (): fc.Arbitrary<GeneratedFilter> =>
  fc
    .letrec<{ node: GeneratedFilter }>((tie) => ({
      node: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        enumComparison,
        dateComparison,
        fc.record({ operand: tie("node") }).map(({ operand }): GeneratedFilter => ({
          text: `not (${operand.text})`,
          ast: { kind: "not", operand: operand.ast },
          comparisons: operand.comparisons,
        })),
        fc
          .record({ kind: fc.constantFrom("and" as const, "or" as const), left: tie("node"), right: tie("node") })
          .map(({ kind, left, right }): GeneratedFilter => ({
            text: `(${left.text}) ${kind} (${right.text})`,
            ast: { kind, left: left.ast, right: right.ast },
            comparisons: left.comparisons + right.comparisons,
          })),
      ),
    }))
    .node.filter(withinLimits);

function withinLimits(f: GeneratedFilter): boolean {
  return (
    f.comparisons <= FILTER_LIMITS.comparisons &&
    f.text.length <= FILTER_LIMITS.length &&
    parserDepth(f.ast) <= FILTER_LIMITS.depth &&
    orGroups(f.ast) <= FILTER_LIMITS.orNesting
  );
}

const comparison = fc.oneof(enumComparison, dateComparison);

type Shaped = GeneratedFilter & { readonly depth: number };

/**
 * A filter of exactly `n` comparisons in any shape of and, or and not, with parentheses only where the text needs
 * them, and at most `budget` more `or` groups (an `or` under an `and`, counted after folding the `not`s, which swap
 * the two) below a parent whose folded kind is `parent`.
 */
function shaped(n: number, budget: number, parent: "and" | "or", negated: boolean): fc.Arbitrary<Shaped> {
  const plain: fc.Arbitrary<Shaped> =
    n === 1
      ? comparison.map((c) => ({ ...c, depth: 0 }))
      : fc
          .tuple(
            fc.integer({ min: 1, max: n - 1 }),
            parent === "and" && budget === 0 ? fc.constant(false) : fc.boolean(),
          )
          .chain(([k, isOr]) => {
            const folded = isOr ? "or" : "and";
            const childBudget = folded === "or" && parent === "and" ? budget - 1 : budget;
            const written = (folded === "and") !== negated ? "and" : "or";
            return fc
              .tuple(shaped(k, childBudget, folded, negated), shaped(n - k, childBudget, folded, negated))
              .map(([left, right]): Shaped => {
                const wrapped = (side: Shaped) => side.ast.kind === "or" && written === "and";
                const text = (side: Shaped) => (wrapped(side) ? `(${side.text})` : side.text);
                const depth = (side: Shaped) => side.depth + (wrapped(side) ? 1 : 0);
                return {
                  text: `${text(left)} ${written} ${text(right)}`,
                  ast: { kind: written, left: left.ast, right: right.ast },
                  comparisons: n,
                  depth: Math.max(depth(left), depth(right)),
                };
              });
          });
  // Now and then the node is written negated: a `not` over the dual form, which folds back to the same shape.
  return fc.oneof(
    { weight: 3, arbitrary: plain },
    {
      weight: 1,
      arbitrary: fc
        .constant(null)
        .chain(() => shaped(n, budget, parent, !negated))
        .map((inner): Shaped => ({
          text: `not (${inner.text})`,
          ast: { kind: "not", operand: inner.ast },
          comparisons: n,
          depth: inner.depth + 2, // the parser counts the `not` and the `(`
        })),
    },
  );
}

/**
 * The worst filter the limits allow for the embedded store's SQL parser: every comparison as deep in `or` groups as
 * allowed (its work grows with each comparison's depth), with long date-times, and still within the length limit.
 */
export const WORST_ALLOWED_FILTER = (() => {
  const c = "lastActionDateTime ge 2001-01-01T00:00:00.1234567+05:30";
  const rest = Array.from({ length: FILTER_LIMITS.comparisons - 2 }, () => c).join(" or ");
  return `${c} or ${c} and (${rest})`;
})();

/** Filters at the limits: the most comparisons allowed, as deep in `or` groups as allowed. */
export const filterAtLimits = (): fc.Arbitrary<GeneratedFilter> =>
  shaped(FILTER_LIMITS.comparisons, FILTER_LIMITS.orNesting, "and", false).filter(
    (f) =>
      f.depth <= FILTER_LIMITS.depth &&
      f.text.length <= FILTER_LIMITS.length &&
      orGroups(f.ast) === FILTER_LIMITS.orNesting,
  );

/**
 * How many `or` groups the SQL of a filter nests, counted on the tree as written: a `not` turns the `and`s and
 * `or`s under it into each other, and a group starts where an `or` sits under an `and` (the tenant and team make
 * the top an `and`).
 */
export function orGroups(node: FilterNode, negated = false, parent: "and" | "or" = "and"): number {
  switch (node.kind) {
    case "compare":
      return 0;
    case "not":
      return orGroups(node.operand, !negated, parent);
    default: {
      const kind = (node.kind === "and") !== negated ? "and" : "or";
      const inner = Math.max(orGroups(node.left, negated, kind), orGroups(node.right, negated, kind));
      return inner + (kind === "or" && parent === "and" ? 1 : 0);
    }
  }
}

/** The nesting the parser counts for the text above: `not` and `(` one level each. */
export function parserDepth(node: FilterNode): number {
  switch (node.kind) {
    case "compare":
      return 0;
    case "not":
      return 2 + parserDepth(node.operand);
    default:
      return 1 + Math.max(parserDepth(node.left), parserDepth(node.right));
  }
}
