/**
 * The store of operations: one Cosmos DB container partitioned on /teamId.
 * Every call is scoped to one partition (a team) and one tenant; nothing here
 * knows about HTTP. What a method expects (not found, taken, changed) becomes
 * the store's own error (`../errors.ts`) here; every other failure, the
 * deadline and the not-set-up answer are `cosmos.ts`'s.
 */
import type { AppConfig } from "../config.js";
import { AlreadyExistsError, NotFoundError, PreconditionFailedError } from "../errors.js";
import {
  documentId,
  type OperationDocument,
  type StoredEntry,
  type StoredOperation,
  type Tombstone,
} from "../operations/model.js";
import type { FilterNode, OrderBy } from "../operations/query.js";
import { openContainer, storedOf, type StoreContainer } from "./cosmos.js";
import { RUNNING_STATUSES, staleQuery, teamCountQuery, teamPageQuery } from "./operationQuery.js";

export interface PageRequest {
  /** The caller's $filter. */
  readonly filter: FilterNode | undefined;
  /** The sort keys, in order (the team scope is sorted first, in the first key's direction). */
  readonly orderBy: OrderBy | undefined;
  readonly top: number;
  readonly continuation: string | undefined;
  /** Also count every operation the filter matches (`$count=true`). */
  readonly count?: boolean;
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
  /** How many of a tenant's operations in one team match the filter. */
  count(tenantId: string, teamId: string, filter: FilterNode | undefined): Promise<number>;
  /** Answers whether the store is reachable, within the given time. */
  ping(timeoutMs: number): Promise<boolean>;
  /**
   * Running operations (notStarted, inProgress) of every tenant and team that no one has written since the cutoff,
   * by the store's own clock (`_ts`), never a client's: the sweeper's one cross-partition query, a page at a time.
   */
  findStale(cutoff: Date, pageSize: number, continuation: string | undefined): Promise<StalePage>;
}

/** The id of a new operation is taken in its team (by an operation or a tombstone). */
export const operationExists = (operationId: string) =>
  new AlreadyExistsError(`An operation with id '${operationId}' already exists in this team.`, { target: "id" });

export const operationNotFound = () => new NotFoundError("The operation does not exist.");

/** The sweeper's continuation: which running status it is at, and the store's token within that query. */
function encodeStaleContinuation(status: number, token?: string): string {
  return JSON.stringify({ status, token });
}

function decodeStaleContinuation(continuation: string | undefined): { status: number; token: string | undefined } {
  if (continuation === undefined) return { status: 0, token: undefined };
  const parsed = JSON.parse(continuation) as { status: number; token?: string };
  return { status: parsed.status, token: parsed.token };
}

export class CosmosOperationStore implements OperationStore {
  readonly #container: StoreContainer;

  constructor(container: StoreContainer) {
    this.#container = container;
  }

  static async connect(cosmos: AppConfig["cosmos"]): Promise<CosmosOperationStore> {
    return new CosmosOperationStore(await openContainer(cosmos, cosmos.container));
  }

  async create(document: OperationDocument): Promise<StoredOperation> {
    const created = await this.#container.create(document);
    if (created === "conflict") throw operationExists(document.operationId);
    return created;
  }

  async read(tenantId: string, teamId: string, operationId: string): Promise<StoredOperation | undefined> {
    const entry = await this.readEntry(tenantId, teamId, operationId);
    return entry?.kind === "operation" ? entry.stored : undefined;
  }

  async readEntry(tenantId: string, teamId: string, operationId: string): Promise<StoredEntry | undefined> {
    const found = await this.#container.read<OperationDocument | Tombstone>(documentId(tenantId, operationId), teamId);
    // Defence in depth: the id already carries the tenant.
    if (!found || found.document.tenantId !== tenantId) return undefined;
    const { document, etag } = found;
    return "tombstone" in document && document.tombstone === true
      ? { kind: "tombstone", tombstone: document, etag }
      : { kind: "operation", stored: { document: document as OperationDocument, etag } };
  }

  async replace(document: OperationDocument, etag: string): Promise<StoredOperation> {
    const replaced = await this.#container.replaceIfMatch(document, document.teamId, etag);
    if (replaced === "changed") throw new PreconditionFailedError();
    if (replaced === "gone") throw operationNotFound();
    return replaced;
  }

  async bury(tombstone: Tombstone, etag: string): Promise<boolean> {
    const replaced = await this.#container.replaceIfMatch(tombstone, tombstone.teamId, etag);
    if (replaced === "changed") throw new PreconditionFailedError();
    return replaced !== "gone";
  }

  async query(tenantId: string, teamId: string, page: PageRequest): Promise<QueryPage> {
    const query = teamPageQuery(tenantId, teamId, page);
    const operations: StoredOperation[] = [];
    let continuation = page.continuation;
    // A page may come back empty with more to follow; a few round trips avoid handing the client an empty page.
    for (let round = 0; round < 5; round++) {
      const found = await this.#container.page<Record<string, unknown>>("query", query, {
        partitionKey: teamId,
        maxItemCount: page.top - operations.length,
        continuation,
        callerContinuation: page.continuation !== undefined,
      });
      operations.push(...found.resources.map((resource) => storedOf<OperationDocument>(resource)));
      continuation = found.continuation;
      if (!continuation || operations.length > 0) break;
    }
    if (!page.count) return { operations, continuation };
    // The first page with nothing after it holds every match: it is the count, and no query is needed for it.
    const whole = page.continuation === undefined && continuation === undefined;
    const count = whole ? operations.length : await this.count(tenantId, teamId, page.filter);
    return { operations, continuation, count };
  }

  async count(tenantId: string, teamId: string, filter: FilterNode | undefined): Promise<number> {
    const query = teamCountQuery(tenantId, teamId, filter);
    // Usually one page; when the store splits the work, each page counts its share.
    let count = 0;
    let continuation: string | undefined;
    do {
      const found = await this.#container.page<number>("count", query, { partitionKey: teamId, continuation });
      for (const partial of found.resources) count += partial;
      continuation = found.continuation;
    } while (continuation);
    return count;
  }

  async findStale(cutoff: Date, pageSize: number, continuation: string | undefined): Promise<StalePage> {
    // One query per running status, in turn: the continuation says which status and where in it.
    let { status, token } = decodeStaleContinuation(continuation);
    for (; status < RUNNING_STATUSES.length; status++, token = undefined) {
      const found = await this.#container.page<Record<string, unknown>>(
        "query",
        staleQuery(RUNNING_STATUSES[status]!, cutoff),
        { maxItemCount: pageSize, continuation: token },
      );
      const operations = found.resources.map((resource) => storedOf<OperationDocument>(resource));
      if (found.continuation) {
        return { operations, continuation: encodeStaleContinuation(status, found.continuation) };
      }
      if (operations.length > 0) {
        const next = status + 1 < RUNNING_STATUSES.length ? encodeStaleContinuation(status + 1) : undefined;
        return { operations, continuation: next };
      }
    }
    return { operations: [], continuation: undefined };
  }

  ping(timeoutMs: number): Promise<boolean> {
    return this.#container.ping(timeoutMs);
  }
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
