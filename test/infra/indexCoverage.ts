/**
 * Whether a Cosmos DB indexing policy serves a query, by the rules of Azure
 * Cosmos DB's documentation ("Indexing policies", composite indexes):
 *
 * - a property in a filter or a single-property ORDER BY needs a range index
 *   (an included path `/p/?`); an ORDER BY on a path that is not indexed fails;
 * - an ORDER BY on two or more properties needs a composite index with exactly
 *   those paths in that sequence, with the same directions or all of them
 *   opposite, or the query fails;
 * - a composite serves `WHERE a = @x ORDER BY b` only when the query says
 *   `ORDER BY a, b`: the equality-filtered properties come first;
 * - a filter on several properties (equalities, at most one range, the range
 *   last) is served by a composite of exactly those properties; properties of
 *   the filter outside the composite are served by their range indexes.
 *
 * The store's own part of a query (the team scope, the sweeper's filter) must
 * be served by a composite; the caller's $filter part by range indexes.
 */
import type { CompositePath, IndexingPolicy } from "@azure/cosmos";
import type { QueryShape } from "../support/queryShapes.js";

export interface Coverage {
  /** What is not served, one line per problem (empty: every shape is served). */
  readonly problems: string[];
  /** Indexes that serve no shape: writes pay for them for nothing. */
  readonly unused: string[];
}

interface Analysed {
  readonly equalities: string[];
  readonly ranges: string[];
  readonly referenced: string[];
  readonly orderBy: { property: string; descending: boolean }[];
}

/** Splits at a separator outside parentheses. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "(") depth++;
    else if (text[i] === ")") depth--;
    else if (depth === 0 && text.startsWith(separator, i)) {
      parts.push(text.slice(start, i));
      start = i + separator.length;
      i += separator.length - 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

const properties = (text: string) => [...text.matchAll(/\bc\.(\w+)/g)].map((m) => m[1]!);

export function analyse(shape: QueryShape): Analysed {
  const match = /^SELECT .+? FROM c WHERE (.+?)(?: ORDER BY (.+))?$/.exec(shape.spec.query);
  if (!match) throw new Error(`not a query shape this check reads: ${shape.spec.query}`);
  let where = match[1]!;
  const condition = shape.condition?.text;
  if (condition) {
    if (!where.endsWith(` AND ${condition}`)) throw new Error(`the $filter condition is not last: ${where}`);
    where = where.slice(0, -` AND ${condition}`.length);
  }
  const equalities: string[] = [];
  const ranges: string[] = [];
  for (const conjunct of splitTopLevel(where, " AND ")) {
    // IS_DEFINED(c.x) (the store's test that a document is an operation, not a tombstone) is served by the range
    // index on x, which `referenced` requires; it takes no part in a composite index.
    if (/^IS_DEFINED\(c\.\w+\)$/.test(conjunct)) continue;
    // "=" is an equality; <, >, <=, >= and != are range filters.
    const comparison = /^c\.(\w+) (=|<|>|<=|>=|!=) @\w+$/.exec(conjunct);
    if (!comparison) throw new Error(`the store's own filter is not a conjunction of comparisons: ${conjunct}`);
    (comparison[2] === "=" ? equalities : ranges).push(comparison[1]!);
  }
  const orderBy = (match[2] ? splitTopLevel(match[2], ",") : []).map((item) => {
    const m = /^c\.(\w+)(?: (ASC|DESC))?$/.exec(item);
    if (!m) throw new Error(`not an ORDER BY item this check reads: ${item}`);
    return { property: m[1]!, descending: m[2] === "DESC" };
  });
  return {
    equalities,
    ranges,
    referenced: [...new Set([...properties(match[1]!), ...orderBy.map((o) => o.property)])],
    orderBy,
  };
}

/** Whether the policy range-indexes a top-level property (the most specific included/excluded path wins). */
export function rangeIndexed(policy: IndexingPolicy, property: string): boolean {
  const exact = `/${property}/?`;
  const included = (policy.includedPaths ?? []).map((p) => p.path);
  const excluded = (policy.excludedPaths ?? []).map((p) => p.path);
  if (excluded.includes(exact)) return false;
  if (included.includes(exact)) return true;
  if (excluded.includes(`/${property}/*`)) return false;
  if (included.includes(`/${property}/*`)) return true;
  return included.includes("/*") && !excluded.includes("/*");
}

const describeComposite = (c: CompositePath[]) => `(${c.map((p) => `${p.path} ${p.order ?? "ascending"}`).join(", ")})`;

export function coverage(policy: IndexingPolicy, shapes: readonly QueryShape[]): Coverage {
  const problems: string[] = [];
  const composites = policy.compositeIndexes ?? [];
  const usedComposites = new Set<number>();
  const referenced = new Set<string>();
  const paths = (c: CompositePath[]) => c.map((p) => p.path.replace(/^\//, ""));

  for (const shape of shapes) {
    const a = analyse(shape);
    for (const p of a.referenced) {
      referenced.add(p);
      if (!rangeIndexed(policy, p)) problems.push(`${shape.label}: no range index on /${p}/?`);
    }
    if (a.orderBy.length > 0) {
      // The equality filters first, then the sort keys: the only form a composite serves.
      const leading = a.orderBy.slice(0, a.equalities.length).map((o) => o.property);
      if (JSON.stringify([...leading].sort()) !== JSON.stringify([...a.equalities].sort()) || a.ranges.length > 0) {
        problems.push(`${shape.label}: ORDER BY does not begin with the equality filters (${a.equalities.join(", ")})`);
      }
      if (a.orderBy.length >= 2) {
        const index = composites.findIndex((c) => {
          if (c.length !== a.orderBy.length) return false;
          const same = c.every(
            (p, i) =>
              p.path === `/${a.orderBy[i]!.property}` && (p.order === "descending") === a.orderBy[i]!.descending,
          );
          const opposite = c.every(
            (p, i) =>
              p.path === `/${a.orderBy[i]!.property}` && (p.order === "descending") !== a.orderBy[i]!.descending,
          );
          return same || opposite;
        });
        if (index < 0) problems.push(`${shape.label}: no composite index for the ORDER BY (the query would fail)`);
        else usedComposites.add(index);
      }
    } else if (a.equalities.length + a.ranges.length >= 2) {
      if (a.ranges.length > 1) problems.push(`${shape.label}: more than one range filter for one composite index`);
      const index = composites.findIndex((c) => {
        const p = paths(c);
        const head = p.slice(0, a.equalities.length);
        const tail = p.slice(a.equalities.length);
        return (
          JSON.stringify([...head].sort()) === JSON.stringify([...a.equalities].sort()) &&
          JSON.stringify(tail) === JSON.stringify(a.ranges)
        );
      });
      if (index < 0) {
        problems.push(
          `${shape.label}: no composite index on (${[...a.equalities, ...a.ranges].join(", ")}) for its filter`,
        );
      } else {
        usedComposites.add(index);
      }
    }
  }

  const unused = [
    ...composites.filter((_, i) => !usedComposites.has(i)).map((c) => `composite ${describeComposite(c)}`),
    ...(policy.includedPaths ?? [])
      .map((p) => p.path)
      .filter((p) => {
        const property = /^\/(\w+)\/\?$/.exec(p)?.[1];
        return !property || !referenced.has(property);
      })
      .map((p) => `included path ${p}`),
  ];
  return { problems, unused };
}
