/**
 * An in-memory OperationStore, for what is about the code above the store:
 * the in-process handler tests (request and response shapes) and the
 * benchmark's pipeline section (our code, not the store's). It answers as
 * CosmosOperationStore does, with the same error types, and can be told to
 * fail a method with any error (a throttled or unavailable store, say), so a
 * test can check what the API makes of it. Integration tests use the real
 * store on the embedded Cosmos DB server, never this.
 *
 * It keeps documents as it is given them (no copy: nothing changes a document
 * once stored) and numbers its entity tags. It evaluates a $filter's tree
 * itself, as Cosmos DB evaluates the SQL the real store writes from it
 * (strings compared by their code units); test/integration/store/
 * operationStore.contract.test.ts holds both stores to the same assertions.
 */
import { InvalidContinuationError, PreconditionFailedError } from "../../shared/errors.js";
import {
  documentId,
  type OperationDocument,
  type StoredEntry,
  type StoredOperation,
  type Tombstone,
} from "../../shared/operations/model.js";
import { COMPARE, type Comparison, type FilterNode } from "../../shared/operations/query.js";
import { RUNNING_STATUSES } from "../../shared/store/operationQuery.js";
import {
  operationExists,
  operationNotFound,
  type OperationStore,
  type PageRequest,
  type QueryPage,
  type StalePage,
} from "../../shared/store/operations.js";

type Method = keyof OperationStore;

interface Entry {
  readonly document: OperationDocument | Tombstone;
  readonly etag: string;
  /** When it was last written, as the store's `_ts` would say. */
  readonly writtenAt: number;
}

const isTombstone = (document: OperationDocument | Tombstone): document is Tombstone =>
  (document as Tombstone).tombstone === true;

/** Whether an operation matches a $filter (every filterable property is always present): what the filter means. */
export function matches(document: Readonly<Record<Comparison["property"], string>>, filter: FilterNode): boolean {
  switch (filter.kind) {
    case "compare":
      return COMPARE[filter.operator](document[filter.property], filter.value);
    case "not":
      return !matches(document, filter.operand);
    case "and":
      return matches(document, filter.left) && matches(document, filter.right);
    case "or":
      return matches(document, filter.left) || matches(document, filter.right);
  }
}

/** Orders strings as Cosmos DB does: by their code units, not by locale. */
const ordinal = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class MemoryOperationStore implements OperationStore {
  readonly #entries = new Map<string, Entry>();
  readonly #faults = new Map<Method, () => Error>();
  #etags = 0;
  /** The clock `findStale` compares write times with; a test may move it. */
  now: () => number = () => Date.now();

  /** Makes every call of `method` throw what `error` gives, until `clearFaults`. */
  failOn(method: Method, error: () => Error): void {
    this.#faults.set(method, error);
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  /** Forgets everything stored (keeps memory flat over long benchmark runs). */
  clear(): void {
    this.#entries.clear();
  }

  /** Every stored document, tombstones included, for checking what a request stored. */
  documents(): Array<OperationDocument | Tombstone> {
    return [...this.#entries.values()].map((entry) => entry.document);
  }

  #fault(method: Method): void {
    const fault = this.#faults.get(method);
    if (fault) throw fault();
  }

  #key(id: string, teamId: string): string {
    return `${teamId}/${id}`;
  }

  #write(document: OperationDocument | Tombstone): Entry {
    const entry = { document, etag: String(++this.#etags), writtenAt: this.now() };
    this.#entries.set(this.#key(document.id, document.teamId), entry);
    return entry;
  }

  #stored(entry: Entry): StoredOperation {
    return { document: entry.document as OperationDocument, etag: entry.etag };
  }

  async create(document: OperationDocument): Promise<StoredOperation> {
    this.#fault("create");
    if (this.#entries.has(this.#key(document.id, document.teamId))) throw operationExists(document.operationId);
    return this.#stored(this.#write(document));
  }

  async read(tenantId: string, teamId: string, operationId: string): Promise<StoredOperation | undefined> {
    this.#fault("read");
    const entry = await this.readEntry(tenantId, teamId, operationId);
    return entry?.kind === "operation" ? entry.stored : undefined;
  }

  async readEntry(tenantId: string, teamId: string, operationId: string): Promise<StoredEntry | undefined> {
    this.#fault("readEntry");
    const entry = this.#entries.get(this.#key(documentId(tenantId, operationId), teamId));
    if (!entry || entry.document.tenantId !== tenantId) return undefined;
    return isTombstone(entry.document)
      ? { kind: "tombstone", tombstone: entry.document, etag: entry.etag }
      : { kind: "operation", stored: this.#stored(entry) };
  }

  async replace(document: OperationDocument, etag: string): Promise<StoredOperation> {
    this.#fault("replace");
    const entry = this.#entries.get(this.#key(document.id, document.teamId));
    if (!entry) throw operationNotFound();
    if (entry.etag !== etag) throw new PreconditionFailedError();
    return this.#stored(this.#write(document));
  }

  async bury(tombstone: Tombstone, etag: string): Promise<boolean> {
    this.#fault("bury");
    const entry = this.#entries.get(this.#key(tombstone.id, tombstone.teamId));
    if (!entry) return false;
    if (entry.etag !== etag) throw new PreconditionFailedError();
    this.#write(tombstone);
    return true;
  }

  #team(tenantId: string, teamId: string, filter: FilterNode | undefined): Entry[] {
    return [...this.#entries.values()].filter(
      ({ document }) =>
        document.tenantId === tenantId &&
        document.teamId === teamId &&
        !isTombstone(document) &&
        (filter === undefined || matches(document, filter)),
    );
  }

  async query(tenantId: string, teamId: string, page: PageRequest): Promise<QueryPage> {
    this.#fault("query");
    const matching = this.#team(tenantId, teamId, page.filter);
    const keys = page.orderBy ?? [];
    const compare = (a: Entry, b: Entry) => {
      for (const { property, direction } of keys) {
        const order = ordinal((a.document as OperationDocument)[property], (b.document as OperationDocument)[property]);
        if (order !== 0) return direction === "asc" ? order : -order;
      }
      return 0;
    };
    if (keys.length > 0) matching.sort(compare);
    // The continuation is where the next page starts, as text, like the store's opaque tokens.
    const start = page.continuation === undefined ? 0 : Number(page.continuation);
    if (!Number.isInteger(start) || start < 0 || start > matching.length) throw new InvalidContinuationError();
    const end = start + page.top;
    return {
      operations: matching.slice(start, end).map((entry) => this.#stored(entry)),
      continuation: end < matching.length ? String(end) : undefined,
      ...(page.count ? { count: matching.length } : {}),
    };
  }

  async count(tenantId: string, teamId: string, filter: FilterNode | undefined): Promise<number> {
    this.#fault("count");
    return this.#team(tenantId, teamId, filter).length;
  }

  async ping(): Promise<boolean> {
    try {
      this.#fault("ping");
    } catch {
      return false;
    }
    return true;
  }

  async findStale(cutoff: Date, pageSize: number, continuation: string | undefined): Promise<StalePage> {
    this.#fault("findStale");
    const running: readonly string[] = RUNNING_STATUSES;
    const stale = [...this.#entries.values()].filter(
      ({ document, writtenAt }) =>
        !isTombstone(document) && running.includes(document.status) && writtenAt < cutoff.getTime(),
    );
    const start = continuation === undefined ? 0 : Number(continuation);
    const end = start + pageSize;
    return {
      operations: stale.slice(start, end).map((entry) => this.#stored(entry)),
      continuation: end < stale.length ? String(end) : undefined,
    };
  }
}
