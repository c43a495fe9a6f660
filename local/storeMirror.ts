/**
 * What the embedded store holds, kept beside it in this process from the
 * answers to its own writes: every database, container definition and
 * document, each document with the sequence number of the write that made it
 * (a local log sequence number, one more at every change of the store). The
 * embedded server has no change feed; this is the local one: a trigger reads
 * the documents changed after its position, and its position (its lease) is
 * kept with the data, so a restart resumes where it stopped. The data file
 * (storeSnapshot.ts) is this mirror on disk: a change is one line appended to
 * a journal before its write is acknowledged.
 *
 * Writes are recognised by route as the server routes them
 * (`@vercel/cosmosdb-server`'s router: a POST that is a query, by header or
 * by `application/query+json`, is a read). A write the mirror cannot follow
 * (a transactional batch) is followed by reading the whole store again.
 */
import type { IncomingMessage } from "node:http";
import { withoutSystemFields } from "../shared/store/cosmos.js";

/** A container's settings as kept: what creating it again needs. */
export interface ContainerDefinition {
  readonly id: string;
  readonly partitionKey?: { readonly paths?: readonly string[]; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

export const CONTAINER_SETTINGS = ["id", "partitionKey", "defaultTtl", "indexingPolicy", "uniqueKeyPolicy"] as const;

/** A document as kept: its JSON without the system fields, the server's version of it, and its sequence number. */
export interface MirroredDocument {
  readonly text: string;
  readonly etag: string;
  readonly ts: number;
  readonly sequence: number;
}

export interface MirroredContainer {
  definition: ContainerDefinition;
  /** By partition key value and id (`JSON.stringify([pk, id])`), in the order of their last change. */
  readonly documents: Map<string, MirroredDocument>;
  /** Every change since the log was last rebuilt, in order: what the change feed reads from a position on. */
  log: Array<{ readonly sequence: number; readonly key: string }>;
}

export function newContainer(definition: ContainerDefinition): MirroredContainer {
  return { definition, documents: new Map(), log: [] };
}

/** One change of the store, as the journal writes it (a line of JSON). */
export type StoreChange =
  | { readonly sequence: number; readonly database: string; readonly dropped?: true }
  | {
      readonly sequence: number;
      readonly database: string;
      readonly container: string;
      readonly definition?: ContainerDefinition;
      readonly dropped?: true;
    }
  | {
      readonly sequence: number;
      readonly database: string;
      readonly container: string;
      readonly document?: Record<string, unknown>;
      readonly deleted?: { readonly id: string; readonly partitionKey: unknown };
    }
  | { readonly lease: string; readonly position: number };

/** A write request to the embedded server, by route. */
export type StoreWrite =
  | { readonly kind: "database"; readonly database?: string; readonly dropped: boolean }
  | { readonly kind: "container"; readonly database: string; readonly container?: string; readonly dropped: boolean }
  | {
      readonly kind: "document";
      readonly database: string;
      readonly container: string;
      readonly id?: string;
      /** A DELETE: the partition key value, from the request's header. */
      readonly deletedPartitionKey?: unknown;
      readonly deleted: boolean;
    }
  | { readonly kind: "other" };

function isTrue(value: string | string[] | undefined): boolean {
  return String(value).toLowerCase() === "true";
}

/**
 * The write a request to the embedded server makes, by its route (as the server's router reads it); undefined for a
 * read: GET, HEAD, and a POST that is a query (the SDK's query plan request included, which says so only by its
 * content type).
 */
export function writeOf(req: Pick<IncomingMessage, "method" | "url" | "headers">): StoreWrite | undefined {
  const method = (req.method ?? "GET").toUpperCase();
  if (method === "GET" || method === "HEAD") return undefined;
  const contentType = String(req.headers["content-type"] ?? "").toLowerCase();
  if (method === "POST" && (isTrue(req.headers["x-ms-documentdb-isquery"]) || contentType === "application/query+json"))
    return undefined;
  if (isTrue(req.headers["x-ms-cosmos-is-batch-request"])) return { kind: "other" };
  let segments: string[];
  try {
    segments = new URL(req.url ?? "/", "http://store").pathname
      .split("/")
      .filter(Boolean)
      .map((s) => decodeURIComponent(s));
  } catch {
    return { kind: "other" };
  }
  const [dbs, database, colls, container, docs, id] = segments;
  if (dbs !== "dbs") return { kind: "other" };
  if (segments.length === 1 && method === "POST") return { kind: "database", dropped: false };
  if (segments.length === 2 && method === "DELETE") return { kind: "database", database, dropped: true };
  if (colls !== "colls" || database === undefined) return { kind: "other" };
  if (segments.length === 3 && method === "POST") return { kind: "container", database, dropped: false };
  if (segments.length === 4 && (method === "PUT" || method === "DELETE")) {
    return { kind: "container", database, container, dropped: method === "DELETE" };
  }
  if (docs === "udfs") return undefined; // user-defined functions are not kept
  if (docs !== "docs" || container === undefined) return { kind: "other" };
  if (segments.length === 5 && method === "POST") return { kind: "document", database, container, deleted: false };
  if (segments.length === 6 && (method === "PUT" || method === "PATCH")) {
    return { kind: "document", database, container, id, deleted: false };
  }
  if (segments.length === 6 && method === "DELETE") {
    let partitionKey: unknown = undefined;
    try {
      partitionKey = (JSON.parse(String(req.headers["x-ms-documentdb-partitionkey"] ?? "[]")) as unknown[])[0];
    } catch {
      return { kind: "other" };
    }
    return { kind: "document", database, container, id, deletedPartitionKey: partitionKey, deleted: true };
  }
  return { kind: "other" };
}

export function definitionOf(container: Record<string, unknown>): ContainerDefinition {
  return Object.fromEntries(
    CONTAINER_SETTINGS.filter((key) => container[key] !== undefined).map((key) => [key, container[key]]),
  ) as unknown as ContainerDefinition;
}

/** The value at a partition key path (`/teamId`, `/a/b`) in a document. */
export function partitionKeyValue(document: Record<string, unknown>, definition: ContainerDefinition): unknown {
  const path = definition.partitionKey?.paths?.[0] ?? "/id";
  return path
    .split("/")
    .filter(Boolean)
    .reduce<unknown>((value, part) => (value as Record<string, unknown> | undefined)?.[part], document);
}

export const documentKey = (partitionKey: unknown, id: string) => JSON.stringify([partitionKey ?? null, id]);

export class StoreMirror {
  readonly databases = new Map<string, Map<string, MirroredContainer>>();
  readonly leases = new Map<string, number>();
  /** The sequence number of the last change. */
  sequence = 0;
  #waiters: Array<() => void> = [];

  /** A change of a document is on the mirror: wakes whatever waits for the next one. */
  changed(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves at the next change of a document (or when `signal` aborts). */
  nextChange(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      this.#waiters.push(resolve);
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  container(database: string, container: string): MirroredContainer | undefined {
    return this.databases.get(database)?.get(container);
  }

  /**
   * Follows a successful write from the server's answer (its body, as JSON text): the change it made, with its
   * sequence number; undefined when the mirror cannot follow it (then `resync`).
   */
  apply(write: StoreWrite, body: string): StoreChange | undefined {
    if (write.kind === "other") return undefined;
    let answer: Record<string, unknown> = {};
    if (!(write.kind === "document" ? write.deleted : write.dropped)) {
      try {
        answer = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    }
    if (write.kind === "database") {
      const database = write.database ?? (answer.id as string | undefined);
      if (typeof database !== "string") return undefined;
      if (write.dropped) this.databases.delete(database);
      else if (!this.databases.has(database)) this.databases.set(database, new Map());
      return write.dropped
        ? { sequence: ++this.sequence, database, dropped: true }
        : { sequence: ++this.sequence, database };
    }
    const containers = this.databases.get(write.database);
    if (!containers) return undefined;
    if (write.kind === "container") {
      const container = write.container ?? (answer.id as string | undefined);
      if (typeof container !== "string") return undefined;
      if (write.dropped) {
        containers.delete(container);
        return { sequence: ++this.sequence, database: write.database, container, dropped: true };
      }
      const definition = definitionOf(answer);
      const existing = containers.get(container);
      if (existing) existing.definition = definition;
      else containers.set(container, newContainer(definition));
      return { sequence: ++this.sequence, database: write.database, container, definition };
    }
    const mirrored = containers.get(write.container);
    if (!mirrored) return undefined;
    if (write.deleted) {
      if (write.id === undefined) return undefined;
      mirrored.documents.delete(documentKey(write.deletedPartitionKey, write.id));
      return {
        sequence: ++this.sequence,
        database: write.database,
        container: write.container,
        deleted: { id: write.id, partitionKey: write.deletedPartitionKey ?? null },
      };
    }
    if (typeof answer.id !== "string") return undefined;
    const document = withoutSystemFields(answer);
    const sequence = ++this.sequence;
    this.put(mirrored, document, { etag: String(answer._etag), ts: Number(answer._ts), sequence });
    this.changed();
    return { sequence, database: write.database, container: write.container, document };
  }

  /** Puts a document on the mirror as the server holds it. */
  put(
    container: MirroredContainer,
    document: Record<string, unknown>,
    version: { etag: string; ts: number; sequence: number },
  ): void {
    const key = documentKey(partitionKeyValue(document, container.definition), document.id as string);
    container.documents.delete(key); // re-inserted: the map stays in the order of the changes
    container.documents.set(key, { text: JSON.stringify(document), ...version });
    container.log.push({ sequence: version.sequence, key });
    // Most of the log is changes since superseded: rebuilt from the documents, already in order.
    if (container.log.length > 2 * container.documents.size + 1_000) {
      container.log = [...container.documents].map(([k, entry]) => ({ sequence: entry.sequence, key: k }));
    }
  }

  /** Records a trigger's position. */
  lease(name: string, position: number): StoreChange {
    this.leases.set(name, position);
    return { lease: name, position };
  }

  /**
   * The documents of a container changed after `after`, in the order of their changes, at most `max`, as the change
   * feed gives them (the latest version of each, with its system fields), and the position after them.
   */
  changesAfter(
    database: string,
    container: string,
    after: number,
    max: number,
  ): { documents: Array<Record<string, unknown>>; position: number } {
    const mirrored = this.container(database, container);
    if (!mirrored) return { documents: [], position: after };
    // The first change after the position, by binary search, then each change still current (not superseded).
    const { log, documents } = mirrored;
    let low = 0;
    let high = log.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (log[middle]!.sequence <= after) low = middle + 1;
      else high = middle;
    }
    const taken: MirroredDocument[] = [];
    for (let i = low; i < log.length && taken.length < max; i++) {
      const entry = documents.get(log[i]!.key);
      if (entry?.sequence === log[i]!.sequence) taken.push(entry);
    }
    return {
      documents: taken.map((entry) => ({
        ...(JSON.parse(entry.text) as Record<string, unknown>),
        _etag: entry.etag,
        _ts: entry.ts,
        _lsn: entry.sequence,
      })),
      // Read to the end of the log: past every change it holds, superseded ones included.
      position: taken.length < max ? Math.max(after, log.at(-1)?.sequence ?? after) : taken.at(-1)!.sequence,
    };
  }
}
