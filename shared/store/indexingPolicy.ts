/**
 * The indexing policy of the operations container, one JSON file for both
 * places that create the container: infra/modules/cosmos.bicep loads it
 * (loadJsonContent) for Azure, and the local embedded store is created with it.
 * It indexes exactly what the store's queries use (operationQuery.ts):
 * test/infra/indexing.test.ts enumerates every query the store can emit and
 * fails when one is not served or when an index serves none.
 */
import type { IndexingPolicy } from "@azure/cosmos";
import policy from "./operationsIndexingPolicy.json" with { type: "json" };

export const OPERATIONS_INDEXING_POLICY: IndexingPolicy = policy as IndexingPolicy;

/**
 * The policy for `@vercel/cosmosdb-server`. Cosmos DB serves an ORDER BY from a composite index read forwards
 * or backwards (`ORDER BY a DESC, b DESC` from `(a ASC, b ASC)`); the embedded server only accepts a composite
 * whose directions match the ORDER BY exactly, so each composite index is also given reversed. Azure gets the
 * policy as it is: a reversed copy there would only cost writes.
 */
export function embeddedStoreIndexingPolicy(base: IndexingPolicy = OPERATIONS_INDEXING_POLICY): IndexingPolicy {
  const composites = base.compositeIndexes ?? [];
  const reversed = composites.map((index) =>
    index.map((p) => ({ ...p, order: p.order === "descending" ? ("ascending" as const) : ("descending" as const) })),
  );
  return { ...base, compositeIndexes: [...composites, ...reversed] };
}
