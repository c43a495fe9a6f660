/**
 * The one Cosmos DB layer: the process's client and its options, the deadline every call ends by, what each call
 * costs and what Cosmos DB said (telemetry), Cosmos DB's failures as the store's own errors (`../errors.ts`, with
 * Cosmos DB's error as the cause), the system fields no caller sees, the conditional replace, the not-set-up probe
 * and the query-plan workaround. The stores of operations and of subscriptions reach Cosmos DB only through
 * `StoreContainer`; nothing above them knows a status code.
 */
import { setMaxListeners } from "node:events";
import {
  CosmosClient,
  type Container,
  type CosmosClientOptions,
  type ErrorResponse,
  type QueryIterator,
  type SqlQuerySpec,
} from "@azure/cosmos";
import type { AppConfig } from "../config.js";
import { AppError, InvalidContinuationError, StoreRejectedError, ThrottledError, UnavailableError } from "../errors.js";
import { developerCredential, managedIdentityCredential } from "../identity.js";
import { trackStoreCall, type StoreCall } from "../telemetry.js";

/** A query and its parameters, as the store sends it. */
export type StoreQuery = SqlQuerySpec;

/** A stored document as the store gives it back: without the system fields, with its ETag. */
export interface Stored<T> {
  readonly document: T;
  readonly etag: string;
}

// ---------------------------------------------------------------- the client

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

let sharedClient: Promise<CosmosClient> | undefined;

/** The process's one CosmosClient, which every container of the account is reached through. */
function cosmosClient(cosmos: AppConfig["cosmos"]): Promise<CosmosClient> {
  sharedClient ??= createClient(cosmos).catch((error: unknown) => {
    sharedClient = undefined;
    throw error;
  });
  return sharedClient;
}

/** A container of the configured database, through the process's one client. */
export async function openContainer(cosmos: AppConfig["cosmos"], container: string): Promise<StoreContainer> {
  const client = await cosmosClient(cosmos);
  return new StoreContainer(client.database(cosmos.database).container(container));
}

// ---------------------------------------------------------------- deadlines and measurement

/**
 * Every store call ends within this time, whatever the SDK's own retries would do (with endpoint discovery a
 * timed-out read can be retried for minutes): well inside the 60 s function timeout, and a 503 to the caller.
 */
export const STORE_CALL_DEADLINE_MS = 20_000;

/** The options every store call gets: the signal that ends it at its deadline. */
interface Deadline {
  readonly abortSignal: AbortSignal;
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

function requestChargeOf(value: unknown): number {
  const direct = (value as { requestCharge?: unknown } | undefined)?.requestCharge;
  if (typeof direct === "number") return direct;
  const header = (value as { headers?: Record<string, unknown> } | undefined)?.headers?.["x-ms-request-charge"];
  return Number(header ?? 0) || 0;
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
async function measured<T>(
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

// ---------------------------------------------------------------- failures

/** The status code of a failed Cosmos DB call (undefined when it got no answer), as telemetry records it. */
function cosmosStatus(error: unknown): number | undefined {
  const code = (error as ErrorResponse | undefined)?.code;
  return typeof code === "number" ? code : undefined;
}

/**
 * What a failed Cosmos DB call said, read from its status code in this one place: `internalError` is the embedded
 * server's answer where Cosmos DB says `notFound` for a missing container, and `unavailable` covers no answer, a
 * timeout (408), retry-with (449) and the other server errors.
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
 * or rejected, with Cosmos DB's error (its status, substatus, activity id and request charge) as the cause, which
 * telemetry reports. The store's own errors pass as they are.
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
 * The store answers, but the database or the container does not exist (the infrastructure was not deployed, or
 * they were deleted): the same answer on every route, so nothing reads as "no such operation" or as a bug.
 */
export const storeNotSetUp = () =>
  new UnavailableError("The store is not set up: its database or container does not exist. Retry later.", 30);

// ---------------------------------------------------------------- documents

/** Cosmos DB's system properties, which never reach a caller. */
export const SYSTEM_FIELDS = ["_rid", "_self", "_etag", "_attachments", "_ts", "_lsn"] as const;

/** A copy of a document as Cosmos DB gave it, without its system properties. */
export function withoutSystemFields(resource: object): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...resource };
  for (const field of SYSTEM_FIELDS) delete copy[field];
  return copy;
}

/** A document read from the store, as what the container holds (the one place a store's JSON becomes its type). */
export function storedOf<T>(resource: object, etag = String((resource as { _etag?: unknown })._etag)): Stored<T> {
  return { document: withoutSystemFields(resource) as T, etag };
}

// ---------------------------------------------------------------- the query-plan workaround

/**
 * A query scoped to one partition key, without the query plan request @azure/cosmos sends with it. The SDK
 * (checked against @azure/cosmos 4.9.3, `QueryIterator.fetchQueryPlan`, the private `queryPlanPromise`) asks the
 * gateway for a plan alongside every query unless the iterator already holds one, and uses it only when the query
 * turns out to need a client-side pipeline (a cross-partition ORDER BY, aggregate or DISTINCT); a query within one
 * partition key never does, since that partition runs it whole. Giving the iterator a plan that was not fetched
 * saves that round trip on every page; should a plan ever be needed, the query fails with this error rather than
 * go on without one. (Not `fetchAll`: it resets the iterator.) test/integration/storeQueries.test.ts counts the
 * requests, so an SDK that changes this is noticed.
 */
function withoutQueryPlan<T>(iterator: QueryIterator<T>): QueryIterator<T> {
  (iterator as unknown as { queryPlanPromise?: Promise<unknown> }).queryPlanPromise = NO_QUERY_PLAN;
  return iterator;
}

const NO_QUERY_PLAN = Promise.resolve(new Error("This single-partition query has no query plan; it needs none."));

// ---------------------------------------------------------------- the container

/** How long the container, once seen, is taken to exist when a point operation finds nothing. */
const CONTAINER_SEEN_MS = 10_000;

/** A page of a query's results, and where the next one starts (undefined: none). */
export interface ResultPage<R> {
  readonly resources: R[];
  readonly continuation: string | undefined;
}

export interface PageOptions {
  /** Scopes the query to one partition (then no query plan is fetched); across every partition without it. */
  readonly partitionKey?: string;
  readonly maxItemCount?: number;
  readonly continuation?: string;
  /**
   * The continuation came from a caller: one the store refuses is theirs (InvalidContinuationError), not a store
   * fault.
   */
  readonly callerContinuation?: boolean;
}

/**
 * One Cosmos DB container, as the stores use it: each call within its deadline and measured; what a method expects
 * (taken, changed, gone) as its result; every other failure thrown as the store's own error; a 404 that could mean
 * the container itself is missing told apart (the store-not-set-up 503).
 */
export class StoreContainer {
  readonly #container: Container;
  #seenAt = -Infinity;

  constructor(container: Container) {
    this.#container = container;
  }

  /** Creates the document; "conflict" when its id is taken in its partition. */
  async create<T extends object>(document: T): Promise<Stored<T> | "conflict"> {
    try {
      const { resource, etag } = await measured("create", (deadline) =>
        this.#container.items.create<T>(document, deadline),
      );
      return storedOf<T>(resource!, etag);
    } catch (error) {
      const failure = cosmosFailure(error);
      if (failure === "conflict") return "conflict";
      // A missing container is a 404 from Cosmos DB (and an internal error from the embedded server): look.
      if (failure === "notFound" || failure === "internalError") await this.#absent(undefined);
      throw storeFault(error);
    }
  }

  /** A point read; undefined when the item does not exist. */
  async read<T>(id: string, partitionKey: string): Promise<Stored<T> | undefined> {
    try {
      const { resource, etag, statusCode } = await measured("read", (deadline) =>
        this.#container.item(id, partitionKey).read<Record<string, unknown>>(deadline),
      );
      if (statusCode === 404 || !resource) return await this.#absent(undefined);
      return storedOf<T>(resource, etag);
    } catch (error) {
      if (cosmosFailure(error) === "notFound") return await this.#absent(undefined);
      throw storeFault(error);
    }
  }

  /**
   * Writes `document` over the item only while it still has `etag` (every change to a stored document goes this
   * way): "changed" when it has another, "gone" when it does not exist.
   */
  async replaceIfMatch<T extends { readonly id: string }>(
    document: T,
    partitionKey: string,
    etag: string,
  ): Promise<Stored<T> | "changed" | "gone"> {
    try {
      const { resource, etag: newEtag } = await measured("replace", (deadline) =>
        this.#container.item(document.id, partitionKey).replace<T>(document, {
          accessCondition: { type: "IfMatch", condition: etag },
          ...deadline,
        }),
      );
      return storedOf<T>(resource!, newEtag);
    } catch (error) {
      const failure = cosmosFailure(error);
      if (failure === "preconditionFailed") return "changed";
      if (failure === "notFound") return await this.#absent("gone");
      throw storeFault(error);
    }
  }

  /** Deletes the item; false when it does not exist. */
  async delete(id: string, partitionKey: string): Promise<boolean> {
    try {
      await measured("delete", (deadline) => this.#container.item(id, partitionKey).delete(deadline));
      return true;
    } catch (error) {
      if (cosmosFailure(error) === "notFound") return await this.#absent(false);
      throw storeFault(error);
    }
  }

  /** One page of a query (a page may come back empty with more to follow). */
  async page<R>(operation: "query" | "count", query: StoreQuery, options: PageOptions): Promise<ResultPage<R>> {
    const { partitionKey, maxItemCount, continuation, callerContinuation } = options;
    try {
      const response = await measured(operation, (deadline) => {
        const iterator = this.#container.items.query<R>(query, {
          ...(partitionKey === undefined ? {} : { partitionKey }),
          ...(maxItemCount === undefined ? {} : { maxItemCount }),
          continuationToken: continuation,
          ...deadline,
        });
        return (partitionKey === undefined ? iterator : withoutQueryPlan(iterator)).fetchNext();
      });
      return {
        resources: response.resources,
        continuation: response.hasMoreResults ? response.continuationToken : undefined,
      };
    } catch (error) {
      throw this.#queryFault(error, callerContinuation === true && continuation !== undefined);
    }
  }

  /** Every result of a query (within one partition, or across all of them), in one call. */
  async all<R>(query: StoreQuery, partitionKey?: string): Promise<R[]> {
    try {
      const { resources } = await measured("query", (deadline) =>
        this.#container.items
          .query<R>(query, { ...(partitionKey === undefined ? {} : { partitionKey }), ...deadline })
          .fetchAll(),
      );
      return resources;
    } catch (error) {
      throw this.#queryFault(error, false);
    }
  }

  /** A query across every partition, `pageSize` at a time, at most `pages` pages in one call: the rest waits. */
  async scan<R>(query: StoreQuery, pageSize: number, pages: number): Promise<R[]> {
    const found: R[] = [];
    try {
      await measured("query", async (deadline) => {
        const iterator = this.#container.items.query<R>(query, { maxItemCount: pageSize, ...deadline });
        for (let page = 0; page < pages && iterator.hasMoreResults(); page++) {
          found.push(...(await iterator.fetchNext()).resources);
        }
      });
    } catch (error) {
      throw this.#queryFault(error, false);
    }
    return found;
  }

  /** Answers whether the container is reachable, within the given time. */
  async ping(timeoutMs: number): Promise<boolean> {
    try {
      await measured("ping", (deadline) => this.#container.read(deadline), timeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  /** A query that gets a 404 means the container is missing. */
  #queryFault(error: unknown, callerContinuation: boolean): AppError {
    const failure = cosmosFailure(error);
    if (callerContinuation && failure === "badRequest") return new InvalidContinuationError();
    if (failure === "notFound") return storeNotSetUp();
    return storeFault(error);
  }

  /**
   * What a point operation that found nothing means: `nothing` when the container exists (the item does not),
   * and the store-not-set-up 503 when it does not. The store answers both with a 404; the container is read to tell
   * them apart, at most once per CONTAINER_SEEN_MS while it exists.
   */
  async #absent<T>(nothing: T): Promise<T> {
    if (performance.now() - this.#seenAt < CONTAINER_SEEN_MS) return nothing;
    try {
      await measured("ping", (deadline) => this.#container.read(deadline), 5_000);
    } catch (error) {
      if (cosmosFailure(error) === "notFound") throw storeNotSetUp();
      throw storeFault(error);
    }
    this.#seenAt = performance.now();
    return nothing;
  }
}
