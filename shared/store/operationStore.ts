/**
 * The store of operations: one Cosmos DB container partitioned on /teamId.
 * Every call is scoped to one partition (a team) and one tenant; nothing here
 * knows about HTTP. Cosmos DB's failures become the store's own errors
 * (`../errors.ts`): what a method expects (not found, taken, changed) where it
 * is called, every other in `storeFault` (throttled, unavailable, rejected),
 * each with a retry hint where retrying helps.
 */
import { setMaxListeners } from "node:events";
import {
  CosmosClient,
  type Container,
  type CosmosClientOptions,
  type Item,
  type ErrorResponse,
  type QueryIterator,
  type SqlQuerySpec,
} from "@azure/cosmos";
import type { AppConfig } from "../config.js";
import {
  AlreadyExistsError,
  AppError,
  InvalidContinuationError,
  NotFoundError,
  PreconditionFailedError,
  StoreRejectedError,
  ThrottledError,
  UnavailableError,
} from "../errors.js";
import { developerCredential, managedIdentityCredential } from "../identity.js";
import { trackStoreCall, type StoreCall } from "../telemetry.js";
import {
  documentId,
  type OperationDocument,
  type StoredEntry,
  type StoredOperation,
  type Tombstone,
} from "../operations/model.js";

export interface QueryCondition {
  /** A SQL condition over `c`, built only from whitelisted property names, that can be ANDed as it is. */
  readonly text: string;
  readonly parameters: ReadonlyArray<{ name: string; value: string }>;
}

export interface PageRequest {
  readonly condition: QueryCondition | undefined;
  /** The sort keys, in order (the team scope is sorted first, in the first key's direction). */
  readonly orderBy:
    ReadonlyArray<{ property: "createdDateTime" | "lastActionDateTime"; direction: "asc" | "desc" }> | undefined;
  readonly top: number;
  readonly continuation: string | undefined;
  /** Also count every operation the condition matches (`$count=true`). */
  readonly count?: boolean;
}

export interface Page {
  readonly documents: OperationDocument[];
  readonly continuation: string | undefined;
}

/** A page of a collection query: each operation with its ETag, which the representation carries as `@odata.etag`. */
export interface QueryPage {
  readonly operations: StoredOperation[];
  readonly continuation: string | undefined;
  /** How many operations match in all, when the request asked. */
  readonly count?: number;
}

/** A page of the sweeper's query. */
export interface StalePage {
  /** Each with the ETag it had when found, so that only that version is changed. */
  readonly operations: StoredOperation[];
  readonly continuation: string | undefined;
}

export interface OperationStore {
  /** Stores a new document; an AlreadyExistsError when its id already exists in the team. */
  create(document: OperationDocument): Promise<StoredOperation>;
  /** A point read by (tenant, team, operation id); undefined when absent (or only a tombstone is left). */
  read(tenantId: string, teamId: string, operationId: string): Promise<StoredOperation | undefined>;
  /** A point read of whatever the id holds: an operation, a tombstone, or nothing. */
  readEntry(tenantId: string, teamId: string, operationId: string): Promise<StoredEntry | undefined>;
  /**
   * Replaces what the id holds (an operation, or a tombstone) only if it still has the given ETag; a
   * PreconditionFailedError otherwise, a NotFoundError if it is gone.
   */
  replace(document: OperationDocument, etag: string): Promise<StoredOperation>;
  /** Replaces an operation by its tombstone, only if it still has the given ETag (PreconditionFailedError otherwise); false if gone. */
  bury(tombstone: Tombstone, etag: string): Promise<boolean>;
  /** One page of a tenant's operations in one team (a single-partition query), and their count if asked. */
  query(tenantId: string, teamId: string, page: PageRequest): Promise<QueryPage>;
  /** How many of a tenant's operations in one team match the condition. */
  count(tenantId: string, teamId: string, condition: QueryCondition | undefined): Promise<number>;
  /** Answers whether the store is reachable, within the given time. */
  ping(timeoutMs: number): Promise<boolean>;
  /**
   * Running operations (notStarted, inProgress) of every tenant and team that no one has written since the cutoff,
   * by the store's own clock (`_ts`), never a client's: the sweeper's one cross-partition query, a page at a time.
   */
  findStale(cutoff: Date, pageSize: number, continuation: string | undefined): Promise<StalePage>;
}

function requestChargeOf(value: unknown): number {
  const direct = (value as { requestCharge?: unknown } | undefined)?.requestCharge;
  if (typeof direct === "number") return direct;
  const header = (value as { headers?: Record<string, unknown> } | undefined)?.headers?.["x-ms-request-charge"];
  return Number(header ?? 0) || 0;
}

/** The options every store call gets: the signal that ends it at its deadline. */
interface Deadline {
  readonly abortSignal: AbortSignal;
}

/**
 * A store call that writes `document` over the item only while it still has `etag` (Cosmos DB answers 412
 * otherwise): every change to a stored document goes this way.
 */
export function replaceIfMatch(item: Item, document: object, etag: string) {
  return (deadline: Deadline) =>
    item.replace<Record<string, unknown>>(document as Record<string, unknown>, {
      accessCondition: { type: "IfMatch", condition: etag },
      ...deadline,
    });
}

/** Store calls that start within this long of each other, with the same deadline, share one deadline signal. */
const DEADLINE_GRANULARITY_MS = 100;
const sharedDeadlines = new Map<number, { readonly until: number; readonly signal: AbortSignal }>();

/**
 * The deadline signal of a store call starting now: one signal per DEADLINE_GRANULARITY_MS of start times, so a
 * call ends between `deadlineMs` minus the granularity and `deadlineMs` after it starts, and at any load the app
 * keeps at most deadlineMs / granularity signals and timers per deadline, not a controller and a timer per call.
 */
function deadlineSignal(deadlineMs: number): AbortSignal {
  const now = performance.now();
  let shared = sharedDeadlines.get(deadlineMs);
  if (!shared || now >= shared.until) {
    const signal = AbortSignal.timeout(deadlineMs);
    // Every call in flight listens to it (the SDK's abort listener): many listeners are expected, not a leak.
    setMaxListeners(0, signal);
    shared = { until: now + DEADLINE_GRANULARITY_MS, signal };
    sharedDeadlines.set(deadlineMs, shared);
  }
  return shared.signal;
}

/** What Cosmos DB said of a call, answered or failed: its substatus and activity id (its headers, or the error's). */
function cosmosDetails(value: unknown): Pick<StoreCall, "subStatusCode" | "activityId"> {
  const v = value as { substatus?: unknown; activityId?: unknown; headers?: Record<string, unknown> } | undefined;
  const substatus = Number(v?.substatus ?? v?.headers?.["x-ms-substatus"]);
  const activityId = v?.activityId ?? v?.headers?.["x-ms-activity-id"];
  return {
    subStatusCode: Number.isFinite(substatus) ? substatus : undefined,
    activityId: typeof activityId === "string" ? activityId : undefined,
  };
}

/**
 * Runs one Cosmos call within its deadline and reports its request charge, latency and what Cosmos DB said (a
 * dependency of the invocation), whether it succeeds or fails.
 */
export async function measured<T>(
  operation: StoreCall["operation"],
  call: (deadline: Deadline) => Promise<T>,
  deadlineMs = STORE_CALL_DEADLINE_MS,
): Promise<T> {
  const startTime = Date.now();
  const started = performance.now();
  try {
    const result = await call({ abortSignal: deadlineSignal(deadlineMs) });
    trackStoreCall({
      operation,
      requestCharge: requestChargeOf(result),
      durationMs: performance.now() - started,
      statusCode: (result as { statusCode?: number } | undefined)?.statusCode,
      startTime,
      ...cosmosDetails(result),
    });
    return result;
  } catch (error) {
    trackStoreCall({
      operation,
      requestCharge: requestChargeOf(error),
      durationMs: performance.now() - started,
      statusCode: cosmosStatus(error),
      startTime,
      ...cosmosDetails(error),
    });
    throw error;
  }
}

/**
 * Every store call ends within this time, whatever the SDK's own retries would do (with endpoint discovery a
 * timed-out read can be retried for minutes): well inside the 60 s function timeout, and a 503 to the caller.
 */
export const STORE_CALL_DEADLINE_MS = 20_000;

/**
 * The store answers, but the database or the container does not exist (the infrastructure was not deployed, or
 * they were deleted): the same answer on every route, so nothing reads as "no such operation" or as a bug.
 */
export const storeNotSetUp = () =>
  new UnavailableError("The store is not set up: its database or container does not exist. Retry later.", 30);

/** How long the container, once seen, is taken to exist when a point operation finds nothing. */
const CONTAINER_SEEN_MS = 10_000;

/** The id of a new operation is taken in its team (by an operation or a tombstone). */
export const operationExists = (operationId: string) =>
  new AlreadyExistsError(`An operation with id '${operationId}' already exists in this team.`, { target: "id" });

export const operationNotFound = () => new NotFoundError("The operation does not exist.");

/** Cosmos system properties that must never reach a client. */
const SYSTEM_FIELDS = ["_rid", "_self", "_etag", "_attachments", "_ts", "_lsn"] as const;

function strip(resource: Record<string, unknown>): OperationDocument {
  const copy = { ...resource };
  for (const field of SYSTEM_FIELDS) delete copy[field];
  return copy as unknown as OperationDocument;
}

/** The status code of a failed Cosmos DB call (undefined when it got no answer), as telemetry records it. */
function cosmosStatus(error: unknown): number | undefined {
  const code = (error as ErrorResponse | undefined)?.code;
  return typeof code === "number" ? code : undefined;
}

/**
 * What a failed Cosmos DB call said, read from its status code in this one place (the stores of operations and of
 * subscriptions both): `internalError` is the embedded server's answer where Cosmos DB says `notFound` for a missing
 * container, and `unavailable` covers no answer, a timeout (408), retry-with (449) and the other server errors.
 */
export type CosmosFailure =
  | "badRequest"
  | "notFound"
  | "conflict"
  | "preconditionFailed"
  | "throttled"
  | "internalError"
  | "unavailable"
  | "refused";

export function cosmosFailure(error: unknown): CosmosFailure {
  const status = cosmosStatus(error);
  switch (status) {
    case 400:
      return "badRequest";
    case 404:
      return "notFound";
    case 409:
      return "conflict";
    case 412:
      return "preconditionFailed";
    case 429:
      return "throttled";
    case 500:
      return "internalError";
    case undefined:
    case 408:
    case 449:
      return "unavailable";
    default:
      return status > 500 ? "unavailable" : "refused";
  }
}

/**
 * A failure no store method expects, as the error a caller can act on: throttled (with the store's hint), unavailable,
 * or rejected. The store's own errors pass as they are.
 */
export function storeFault(error: unknown): AppError {
  if (error instanceof AppError) return error;
  switch (cosmosFailure(error)) {
    case "throttled": {
      const retryAfterMs = Number((error as ErrorResponse).retryAfterInMs ?? 1000);
      const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
      return new ThrottledError("The store is busy; retry after the time given.", seconds, { cause: error });
    }
    case "internalError":
    case "unavailable":
      return new UnavailableError("The store is not available; retry later.", 5, { cause: error });
    default:
      return new StoreRejectedError({ cause: error });
  }
}

/**
 * The Cosmos client options: an explicit, bounded retry budget well inside the Functions timeout.
 * Throttled requests are retried 3 times, 1 s apart. A fixed interval, because the SDK sleeps for
 * whatever x-ms-retry-after-ms the service sends (it checks maxWaitTimeInSeconds only before adding
 * the next wait), so honouring the hint would let one 429 hold a request past the function timeout;
 * past the budget the caller gets the service's hint as Retry-After. See docs/reliability.md.
 */
export function cosmosClientOptions(endpoint: string): Pick<CosmosClientOptions, "connectionPolicy"> {
  return {
    connectionPolicy: {
      // A local store (embedded server or emulator) has no regions to discover.
      enableEndpointDiscovery: !/^http:\/\//.test(endpoint),
      requestTimeout: 5_000,
      retryOptions: { maxRetryAttemptCount: 3, fixedRetryIntervalInMilliseconds: 1_000, maxWaitTimeInSeconds: 10 },
    },
  };
}

async function createClient(cosmos: AppConfig["cosmos"]): Promise<CosmosClient> {
  const base = { endpoint: cosmos.endpoint, ...cosmosClientOptions(cosmos.endpoint) };
  if (cosmos.key) return new CosmosClient({ ...base, key: cosmos.key });
  const aadCredentials =
    cosmos.credential === "developer"
      ? await developerCredential()
      : await managedIdentityCredential(cosmos.managedIdentityClientId);
  return new CosmosClient({ ...base, aadCredentials });
}

// ---------------------------------------------------------------- the queries
//
// Every query the store sends, built here so that test/infra/indexing.test.ts can check each shape against
// the container's indexing policy (indexingPolicy.ts): a new filter or sort cannot ship without its index.

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
 * indexed, `tombstone` is not), then the caller's condition; one flat AND chain.
 */
function teamScope(tenantId: string, teamId: string, condition: QueryCondition | undefined): SqlQuerySpec {
  const values: Record<(typeof TEAM_SCOPE)[number], string> = { tenantId, teamId };
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
  page: Pick<PageRequest, "condition" | "orderBy">,
): SqlQuerySpec {
  const scope = teamScope(tenantId, teamId, page.condition);
  const [first] = page.orderBy ?? [];
  const keys = first ? [...TEAM_SCOPE.map((property) => ({ ...first, property })), ...page.orderBy!] : [];
  const order = first ? ` ORDER BY ${keys.map((k) => `c.${k.property} ${k.direction.toUpperCase()}`).join(", ")}` : "";
  return { query: `SELECT * FROM c ${scope.query}${order}`, parameters: scope.parameters };
}

/** How many of a team's operations match the caller's $filter. */
export function teamCountQuery(tenantId: string, teamId: string, condition: QueryCondition | undefined): SqlQuerySpec {
  const scope = teamScope(tenantId, teamId, condition);
  return { query: `SELECT VALUE COUNT(1) FROM c ${scope.query}`, parameters: scope.parameters };
}

/**
 * Operations of one running status, of every tenant and team, that no one has written since the cutoff, by the
 * store's own clock (`_ts`, the time of the last write in whole seconds), never a client's: an equality and a range,
 * the shape the composite index (status, _ts) serves. (An OR of both statuses in one query is not a shape a
 * composite index is documented to serve.)
 */
export function staleQuery(status: (typeof RUNNING_STATUSES)[number], cutoff: Date): SqlQuerySpec {
  return {
    query: "SELECT * FROM c WHERE c.status = @status AND c._ts < @cutoff",
    parameters: [
      { name: "@status", value: status },
      { name: "@cutoff", value: Math.floor(cutoff.getTime() / 1000) },
    ],
  };
}

/** The sweeper's continuation: which running status it is at, and the store's token within that query. */
function encodeStaleContinuation(status: number, token?: string): string {
  return JSON.stringify({ status, token });
}

function decodeStaleContinuation(continuation: string | undefined): { status: number; token: string | undefined } {
  if (continuation === undefined) return { status: 0, token: undefined };
  const parsed = JSON.parse(continuation) as { status: number; token?: string };
  return { status: parsed.status, token: parsed.token };
}

/**
 * A query scoped to one partition key, without the query plan request @azure/cosmos sends with it. The SDK (4.9,
 * `QueryIterator.fetchQueryPlan`) asks the gateway for a plan alongside every query unless the iterator already
 * holds one, and uses it only when the query turns out to need a client-side pipeline (a cross-partition ORDER BY,
 * aggregate or DISTINCT); a query within one partition key never does, since that partition runs it whole. Giving
 * the iterator a plan that was not fetched saves that round trip on every page; should a plan ever be needed, the
 * query fails with this error rather than go on without one. (Not `fetchAll`: it resets the iterator.)
 * test/integration/storeQueries.test.ts counts the requests, so an SDK that changes this is noticed.
 */
function withoutQueryPlan<T>(iterator: QueryIterator<T>): QueryIterator<T> {
  (iterator as unknown as { queryPlanPromise?: Promise<unknown> }).queryPlanPromise = NO_QUERY_PLAN;
  return iterator;
}

const NO_QUERY_PLAN = Promise.resolve(new Error("This single-partition query has no query plan; it needs none."));

export class CosmosOperationStore implements OperationStore {
  readonly #container: Container;
  #containerSeenAt = -Infinity;

  constructor(container: Container) {
    this.#container = container;
  }

  static async connect(cosmos: AppConfig["cosmos"]): Promise<CosmosOperationStore> {
    const client = await cosmosClient(cosmos);
    return new CosmosOperationStore(client.database(cosmos.database).container(cosmos.container));
  }

  async create(document: OperationDocument): Promise<StoredOperation> {
    try {
      const { resource, etag } = await measured("create", (deadline) =>
        this.#container.items.create(document, deadline),
      );
      return { document: strip(resource as unknown as Record<string, unknown>), etag };
    } catch (error) {
      const failure = cosmosFailure(error);
      if (failure === "conflict") throw operationExists(document.operationId);
      // A missing container is a 404 from Cosmos DB (and an internal error from the embedded server): look.
      if (failure === "notFound" || failure === "internalError") await this.#absent(undefined);
      throw storeFault(error);
    }
  }

  async read(tenantId: string, teamId: string, operationId: string): Promise<StoredOperation | undefined> {
    const entry = await this.readEntry(tenantId, teamId, operationId);
    return entry?.kind === "operation" ? entry.stored : undefined;
  }

  async readEntry(tenantId: string, teamId: string, operationId: string): Promise<StoredEntry | undefined> {
    try {
      const { resource, etag, statusCode } = await measured("read", (deadline) =>
        this.#container.item(documentId(tenantId, operationId), teamId).read<Record<string, unknown>>(deadline),
      );
      if (statusCode === 404 || !resource) return await this.#absent(undefined);
      // Defence in depth: the id already carries the tenant.
      if (resource.tenantId !== tenantId) return undefined;
      if (resource.tombstone === true) {
        return { kind: "tombstone", tombstone: strip(resource) as unknown as Tombstone, etag };
      }
      return { kind: "operation", stored: { document: strip(resource), etag } };
    } catch (error) {
      if (cosmosFailure(error) === "notFound") return await this.#absent(undefined);
      throw storeFault(error);
    }
  }

  async replace(document: OperationDocument, etag: string): Promise<StoredOperation> {
    try {
      const { resource, etag: newEtag } = await measured(
        "replace",
        replaceIfMatch(this.#container.item(document.id, document.teamId), document, etag),
      );
      return { document: strip(resource as Record<string, unknown>), etag: newEtag };
    } catch (error) {
      const failure = cosmosFailure(error);
      if (failure === "preconditionFailed") throw new PreconditionFailedError();
      if (failure === "notFound") throw await this.#absent(operationNotFound());
      throw storeFault(error);
    }
  }

  async bury(tombstone: Tombstone, etag: string): Promise<boolean> {
    try {
      await measured("replace", replaceIfMatch(this.#container.item(tombstone.id, tombstone.teamId), tombstone, etag));
      return true;
    } catch (error) {
      const failure = cosmosFailure(error);
      if (failure === "preconditionFailed") throw new PreconditionFailedError();
      if (failure === "notFound") return await this.#absent(false);
      throw storeFault(error);
    }
  }

  async query(tenantId: string, teamId: string, page: PageRequest): Promise<QueryPage> {
    const spec = teamPageQuery(tenantId, teamId, page);
    const operations: StoredOperation[] = [];
    let continuation = page.continuation;
    try {
      // A page may come back empty with more to follow; a few round trips avoid handing the client an empty page.
      for (let round = 0; round < 5; round++) {
        const iterator = withoutQueryPlan(
          this.#container.items.query<Record<string, unknown>>(spec, {
            partitionKey: teamId,
            maxItemCount: page.top - operations.length,
            continuationToken: continuation,
            abortSignal: deadlineSignal(STORE_CALL_DEADLINE_MS),
          }),
        );
        const response = await measured("query", () => iterator.fetchNext());
        operations.push(...response.resources.map((r) => ({ document: strip(r), etag: String(r._etag) })));
        continuation = response.hasMoreResults ? response.continuationToken : undefined;
        if (!continuation || operations.length > 0) break;
      }
    } catch (error) {
      const failure = cosmosFailure(error);
      if (page.continuation && failure === "badRequest") throw new InvalidContinuationError();
      if (failure === "notFound") throw storeNotSetUp();
      throw storeFault(error);
    }
    if (!page.count) return { operations, continuation };
    // The first page with nothing after it holds every match: it is the count, and no query is needed for it.
    const whole = page.continuation === undefined && continuation === undefined;
    const count = whole ? operations.length : await this.count(tenantId, teamId, page.condition);
    return { operations, continuation, count };
  }

  async count(tenantId: string, teamId: string, condition: QueryCondition | undefined): Promise<number> {
    try {
      const iterator = withoutQueryPlan(
        this.#container.items.query<number>(teamCountQuery(tenantId, teamId, condition), {
          partitionKey: teamId,
          abortSignal: deadlineSignal(STORE_CALL_DEADLINE_MS),
        }),
      );
      // Usually one page; when the store splits the work, each page counts its share.
      let count = 0;
      do {
        const { resources } = await measured("count", () => iterator.fetchNext());
        for (const partial of resources) count += partial;
      } while (iterator.hasMoreResults());
      return count;
    } catch (error) {
      if (cosmosFailure(error) === "notFound") throw storeNotSetUp();
      throw storeFault(error);
    }
  }

  async findStale(cutoff: Date, pageSize: number, continuation: string | undefined): Promise<StalePage> {
    // One query per running status, in turn: the continuation says which status and where in it.
    let { status, token } = decodeStaleContinuation(continuation);
    try {
      for (; status < RUNNING_STATUSES.length; status++, token = undefined) {
        const response = await measured("query", (deadline) =>
          this.#container.items
            .query<Record<string, unknown>>(staleQuery(RUNNING_STATUSES[status]!, cutoff), {
              maxItemCount: pageSize,
              continuationToken: token,
              ...deadline,
            })
            .fetchNext(),
        );
        const operations = response.resources.map((r) => ({ document: strip(r), etag: String(r._etag) }));
        if (response.hasMoreResults && response.continuationToken) {
          return { operations, continuation: encodeStaleContinuation(status, response.continuationToken) };
        }
        if (operations.length > 0) {
          const next = status + 1 < RUNNING_STATUSES.length ? encodeStaleContinuation(status + 1) : undefined;
          return { operations, continuation: next };
        }
      }
      return { operations: [], continuation: undefined };
    } catch (error) {
      if (cosmosFailure(error) === "notFound") throw storeNotSetUp();
      throw storeFault(error);
    }
  }

  /**
   * What a point operation that found nothing means: `nothing` when the container exists (the operation does not),
   * and the store-not-set-up 503 when it does not. The store answers both with a 404; the container is read to tell
   * them apart, at most once per CONTAINER_SEEN_MS while it exists.
   */
  async #absent<T>(nothing: T): Promise<T> {
    if (performance.now() - this.#containerSeenAt < CONTAINER_SEEN_MS) return nothing;
    try {
      await measured("ping", (deadline) => this.#container.read(deadline), 5_000);
    } catch (error) {
      if (cosmosFailure(error) === "notFound") throw storeNotSetUp();
      throw storeFault(error);
    }
    this.#containerSeenAt = performance.now();
    return nothing;
  }

  async ping(timeoutMs: number): Promise<boolean> {
    try {
      await measured("ping", (deadline) => this.#container.read(deadline), timeoutMs);
      return true;
    } catch {
      return false;
    }
  }
}

let sharedClient: Promise<CosmosClient> | undefined;

/** The process's one CosmosClient, which every container of the account is reached through. */
export function cosmosClient(cosmos: AppConfig["cosmos"]): Promise<CosmosClient> {
  sharedClient ??= createClient(cosmos).catch((error: unknown) => {
    sharedClient = undefined;
    throw error;
  });
  return sharedClient;
}

let shared: Promise<OperationStore> | undefined;

/**
 * The process-wide store: one CosmosClient per process, connected on first use with the settings of that call (a
 * process has one configuration; later calls get the same store).
 */
export function operationStore(cosmos: AppConfig["cosmos"]): Promise<OperationStore> {
  shared ??= CosmosOperationStore.connect(cosmos).catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

/** Replaces the process-wide store (the benchmark and the in-process handler tests install an in-memory one). */
export function useOperationStore(store: OperationStore): void {
  shared = Promise.resolve(store);
}
