/**
 * The store's queries against the embedded Cosmos DB server through
 * `@azure/cosmos`, in a container created with the indexing policy Azure gets
 * (shared/store/operationsIndexingPolicy.json): every $orderby the OData parser
 * accepts, in both directions, pages through one team's operations in order
 * with the multi-property ORDER BY the composite indexes serve; counts and the
 * sweeper's per-status queries find what they should. The embedded server, like
 * Cosmos DB, refuses a multi-property ORDER BY that no composite index serves,
 * which the last tests show.
 */
import { CosmosClient, type Container, type IndexingPolicy } from "@azure/cosmos";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureLocalContainer, startEmbeddedCosmos, type EmbeddedCosmos } from "../../local/embeddedCosmos.js";
import { parseFilter } from "../../shared/http/odata.js";
import { embeddedStoreIndexingPolicy, OPERATIONS_INDEXING_POLICY } from "../../shared/store/indexingPolicy.js";
import { cosmosClientOptions, StoreContainer } from "../../shared/store/cosmos.js";
import { teamPageQuery } from "../../shared/store/operationQuery.js";
import { CosmosOperationStore } from "../../shared/store/operations.js";
import { startFaultProxy, type FaultProxy } from "../support/faultProxy.js";
import { acceptedSorts, orderByText } from "../support/queryShapes.js";
import { COSMOS_DEFAULTS } from "../../shared/config.js";

const TENANT = "0f0f0f0f-0000-0000-0000-000000000001";
const OTHER_TENANT = "0f0f0f0f-0000-0000-0000-000000000002";
const TEAM = "7e7e7e7e-0000-0000-0000-000000000001";
const OTHER_TEAM = "7e7e7e7e-0000-0000-0000-000000000002";
const STATUSES = ["notStarted", "inProgress", "succeeded", "failed"] as const;

let cosmos: EmbeddedCosmos;
let client: CosmosClient;

/** A time on 2026-01-<day>, in the stored format. */
const at = (day: number, hour: number) =>
  `2026-01-${String(day).padStart(2, "0")}T${String(hour).padStart(2, "0")}:00:00.0000000Z`;

function documents() {
  // 12 operations of TENANT in TEAM, created and last changed in orders that differ from insertion order and
  // from each other, and a few others that no query for TENANT's TEAM may return.
  const mine = Array.from({ length: 12 }, (_, i) => ({
    id: `${TENANT}:op-${i}`,
    operationId: `op-${i}`,
    tenantId: TENANT,
    teamId: TEAM,
    operationType: i % 2 === 0 ? "archiveTeam" : "cloneTeam",
    status: STATUSES[i % 4]!,
    createdDateTime: at(1 + ((i * 5) % 12), 8),
    lastActionDateTime: at(1 + ((i * 7) % 12), 20),
    attemptsCount: 0,
  }));
  const others = [
    { ...mine[0]!, id: `${OTHER_TENANT}:foreign`, operationId: "foreign", tenantId: OTHER_TENANT },
    { ...mine[1]!, id: `${TENANT}:elsewhere`, operationId: "elsewhere", teamId: OTHER_TEAM },
  ];
  return { mine, others };
}

async function containerWith(id: string, indexingPolicy: IndexingPolicy | undefined): Promise<Container> {
  const { database } = await client.databases.createIfNotExists({ id: COSMOS_DEFAULTS.database });
  const { container } = await database.containers.create({
    id,
    partitionKey: { paths: ["/teamId"] },
    ...(indexingPolicy ? { indexingPolicy } : {}),
  });
  const { mine, others } = documents();
  for (const doc of [...mine, ...others]) await container.items.create(doc);
  return container;
}

beforeAll(async () => {
  cosmos = await startEmbeddedCosmos();
  client = new CosmosClient({ endpoint: cosmos.endpoint, key: cosmos.key, ...cosmosClientOptions(cosmos.endpoint) });
});

afterAll(async () => {
  client?.dispose();
  await cosmos?.close();
});

describe("in a container with the deployed indexing policy", () => {
  let store: CosmosOperationStore;
  beforeAll(async () => {
    store = new CosmosOperationStore(
      new StoreContainer(await containerWith("operations", embeddedStoreIndexingPolicy())),
    );
  });

  const sorts = acceptedSorts();

  it("has sorts to check: each property either way, and two properties in every order and mix of directions", () => {
    expect(sorts.filter((s) => s.length === 1)).toHaveLength(4);
    expect(sorts.filter((s) => s.length === 2)).toHaveLength(8);
  });

  it.each(sorts.map((s) => [orderByText(s), s] as const))(
    "pages through one team's operations by %s, in order, across pages",
    async (_label, orderBy) => {
      const seen: Record<string, unknown>[] = [];
      let continuation: string | undefined;
      let pages = 0;
      do {
        const page = await store.query(TENANT, TEAM, { filter: undefined, orderBy, top: 5, continuation });
        seen.push(...(page.operations.map((o) => o.document) as unknown as Record<string, unknown>[]));
        continuation = page.continuation;
        pages++;
      } while (continuation && pages < 10);
      // What the keys say of each operation, compared key by key in each key's direction.
      const key = (d: Record<string, unknown>) => orderBy.map((k) => String(d[k.property])).join(" ");
      const expected = documents()
        .mine.map((d) => d as unknown as Record<string, unknown>)
        .sort((a, b) => {
          for (const { property, direction } of orderBy) {
            const order = String(a[property]).localeCompare(String(b[property]));
            if (order !== 0) return direction === "asc" ? order : -order;
          }
          return 0;
        });
      expect(seen.map(key)).toEqual(expected.map(key));
      expect(new Set(seen.map((d) => d.operationId)).size).toBe(12);
      expect(pages).toBe(3);
    },
  );

  it("filters and sorts together", async () => {
    const filter = parseFilter("status eq 'inProgress' or status eq 'failed'", false);
    const page = await store.query(TENANT, TEAM, {
      filter,
      orderBy: [{ property: "lastActionDateTime", direction: "desc" }],
      top: 20,
      continuation: undefined,
    });
    const expected = documents()
      .mine.filter((d) => d.status === "inProgress" || d.status === "failed")
      .map((d) => d.lastActionDateTime)
      .sort()
      .reverse();
    expect(page.operations.map((o) => o.document.lastActionDateTime)).toEqual(expected);
  });

  it("counts one tenant's operations in one team, with and without a filter", async () => {
    expect(await store.count(TENANT, TEAM, undefined)).toBe(12);
    expect(await store.count(TENANT, TEAM, parseFilter("operationType eq 'cloneTeam'", false))).toBe(6);
    expect(await store.count(OTHER_TENANT, TEAM, undefined)).toBe(1);
  });

  it("finds the stale running operations of every team and tenant, one status after the other, page by page", async () => {
    // Staleness is the store's time of the last write (_ts): with the cutoff a minute from now, every running one.
    const cutoff = new Date(Date.now() + 60_000);
    const expected = [...documents().mine, ...documents().others]
      .filter((d) => d.status === "notStarted" || d.status === "inProgress")
      .map((d) => d.id)
      .sort();
    expect(expected.length).toBeGreaterThanOrEqual(3);
    const seen: string[] = [];
    let continuation: string | undefined;
    let calls = 0;
    do {
      const page = await store.findStale(cutoff, 1, continuation);
      expect(page.operations.length).toBeLessThanOrEqual(1);
      seen.push(...page.operations.map((o) => o.document.id));
      continuation = page.continuation;
      calls++;
    } while (continuation && calls < 20);
    expect(continuation).toBeUndefined();
    expect(seen.sort()).toEqual(expected);
  });
});

describe("store round trips, counted at a proxy in front of the store", () => {
  let proxy: FaultProxy;
  let proxied: CosmosClient;
  let store: CosmosOperationStore;
  beforeAll(async () => {
    await containerWith("round-trips", embeddedStoreIndexingPolicy());
    proxy = await startFaultProxy(cosmos.endpoint);
    proxied = new CosmosClient({
      endpoint: proxy.endpoint,
      key: cosmos.key,
      ...cosmosClientOptions(proxy.endpoint),
    });
    store = new CosmosOperationStore(
      new StoreContainer(proxied.database(COSMOS_DEFAULTS.database).container("round-trips")),
    );
    // The client's first call reads the account and the container's metadata; those are not the store's calls.
    await store.count(TENANT, TEAM, undefined);
  });
  afterAll(async () => {
    proxied?.dispose();
    await proxy?.close();
  });

  /** The requests `run` made that reached documents (queries, query plans, reads, writes), not metadata. */
  async function requestsOf(run: () => Promise<unknown>) {
    proxy.resetLog();
    await run();
    return proxy.log.filter((r) => r.kind !== "metadata");
  }
  const queryPlans = (requests: readonly { headers: Record<string, unknown> }[]) =>
    requests.filter((r) => String(r.headers["x-ms-cosmos-is-query-plan-request"]).toLowerCase() === "true");
  const page = (top: number, count: boolean, continuation?: string) => ({
    filter: undefined,
    orderBy: [{ property: "createdDateTime" as const, direction: "desc" as const }],
    top,
    continuation,
    count,
  });

  it("reads a list page in one round trip, with no query plan request", async () => {
    const requests = await requestsOf(() => store.query(TENANT, TEAM, page(5, false)));
    expect(queryPlans(requests)).toEqual([]);
    expect(requests).toHaveLength(1);
  });

  it("answers $count from the page itself when the first page holds every match: one round trip", async () => {
    let result: Awaited<ReturnType<typeof store.query>> | undefined;
    const requests = await requestsOf(async () => (result = await store.query(TENANT, TEAM, page(20, true))));
    expect(result?.operations).toHaveLength(12);
    expect(result?.count).toBe(12);
    expect(requests).toHaveLength(1);
  });

  it("counts with one more query when there are more pages, still without query plans", async () => {
    let first: Awaited<ReturnType<typeof store.query>> | undefined;
    const requests = await requestsOf(async () => (first = await store.query(TENANT, TEAM, page(5, true))));
    expect(first?.operations).toHaveLength(5);
    expect(first?.count).toBe(12);
    expect(requests).toHaveLength(2);
    expect(queryPlans(requests)).toEqual([]);
    // A later page counts again (the matches may have changed): still one query for the page, one for the count.
    let second: Awaited<ReturnType<typeof store.query>> | undefined;
    const later = await requestsOf(
      async () => (second = await store.query(TENANT, TEAM, page(5, true, first?.continuation))),
    );
    expect(second?.count).toBe(12);
    expect(later).toHaveLength(2);
  });

  it("sends the query plan request the SDK would send otherwise (what the store saves)", async () => {
    const spec = teamPageQuery(TENANT, TEAM, page(5, false));
    const requests = await requestsOf(() =>
      proxied
        .database(COSMOS_DEFAULTS.database)
        .container("round-trips")
        .items.query(spec, { partitionKey: TEAM })
        .fetchNext(),
    );
    expect(queryPlans(requests)).toHaveLength(1);
    expect(requests).toHaveLength(2);
  });
});

describe("the embedded server holds the store to its indexes", () => {
  const ordered = teamPageQuery(TENANT, TEAM, {
    filter: undefined,
    orderBy: [{ property: "createdDateTime", direction: "asc" }],
  });
  const descending = teamPageQuery(TENANT, TEAM, {
    filter: undefined,
    orderBy: [{ property: "createdDateTime", direction: "desc" }],
  });
  const run = (container: Container, spec: typeof ordered) =>
    container.items.query(spec, { partitionKey: TEAM }).fetchAll();

  it("refuses the store's ORDER BY in a container without composite indexes, as Cosmos DB does", async () => {
    const container = await containerWith("no-composites", { ...OPERATIONS_INDEXING_POLICY, compositeIndexes: [] });
    await expect(run(container, ordered)).rejects.toThrow(/composite index/);
  });

  it("reads composite indexes forwards only, unlike Cosmos DB: hence the reversed copies locally", async () => {
    const container = await containerWith("as-deployed", OPERATIONS_INDEXING_POLICY);
    expect((await run(container, ordered)).resources).toHaveLength(12);
    await expect(run(container, descending)).rejects.toThrow(/composite index/);
  });

  it("a local container made with an older policy gets the current one, keeping its documents", async () => {
    const singleKey = (OPERATIONS_INDEXING_POLICY.compositeIndexes ?? []).filter((c) => c.length <= 3);
    const older = await containerWith("older", { ...OPERATIONS_INDEXING_POLICY, compositeIndexes: singleKey });
    const twoKeys = teamPageQuery(TENANT, TEAM, {
      filter: undefined,
      orderBy: [
        { property: "lastActionDateTime", direction: "desc" },
        { property: "createdDateTime", direction: "asc" },
      ],
    });
    await expect(run(older, twoKeys)).rejects.toThrow(/composite index/);
    await ensureLocalContainer(cosmos.endpoint, cosmos.key, COSMOS_DEFAULTS.database, "older");
    expect((await run(older, twoKeys)).resources.map((d) => d.operationId)).toHaveLength(12);
    const all = (await older.items.readAll().fetchAll()).resources;
    expect(all.map((d) => d.id).sort()).toEqual([...documents().mine, ...documents().others].map((d) => d.id).sort());
  });
});
