/**
 * Keeps the embedded store's data across restarts. The embedded server holds
 * everything in memory; this process keeps a mirror of it (storeMirror.ts) and
 * writes it to two files in the data folder:
 *
 * - `store.json`, the base: every database, container (with its settings) and
 *   document, each document with its sequence number, the sequence number of
 *   the last change in it, and the change feed's leases;
 * - `store.journal`, the changes since the base, one line of JSON each,
 *   appended before the write that made the change is acknowledged (a crash,
 *   even SIGKILL, loses nothing that was acknowledged; a line cut short by a
 *   crash was never acknowledged, and is ignored).
 *
 * Nothing is written while nothing changes. A change costs one appended line;
 * the base is written again (compaction) only once the journal has grown past
 * a quarter of the base (at least 1 MiB), at a start that found a journal, and
 * at a stop after changes: in slices, so the store keeps answering meanwhile.
 * Both files are replaced atomically (written beside, then renamed).
 *
 * A data file that cannot be read is refused with the file, the place in it
 * and what is wrong. Documents get new ETags and `_ts` when they are restored
 * (the server assigns both), so an ETag held across a restart gets a 412 and
 * the client reads again, as after any concurrent change; their sequence
 * numbers, which the change feed's positions count in, are kept.
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { open, rename, writeFile, type FileHandle } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { basename, dirname, join } from "node:path";
import { setImmediate as yieldToRequests } from "node:timers/promises";
import { CosmosClient, type JSONObject, type PartitionKey } from "@azure/cosmos";
import { cosmosClientOptions, withoutSystemFields } from "../shared/store/cosmos.js";
import {
  definitionOf,
  documentKey,
  partitionKeyValue,
  newContainer,
  StoreMirror,
  writeOf,
  type ContainerDefinition,
  type MirroredContainer,
  type StoreChange,
  type StoreWrite,
} from "./storeMirror.js";

export const SNAPSHOT_FORMAT = "team-operations-local-store/2";
/** The format before the journal: documents without sequence numbers. Still read. */
const FORMAT_1 = "team-operations-local-store/1";

/** The journal beside a base file. */
export const journalFileOf = (file: string) => join(dirname(file), `${basename(file, ".json")}.journal`);

/** How large the journal may grow, relative to the base, before the base is written again. */
const COMPACT_MIN_BYTES = 1024 * 1024;
const COMPACT_SHARE = 0.25;
/** Documents written per slice of a compaction, between which the store answers requests. */
const SLICE = 500;

// ---------------------------------------------------------------- reading, and refusing what cannot be read

/** A container as read from the files. */
interface StoredContainer {
  definition: ContainerDefinition;
  readonly documents: Map<string, { document: Record<string, unknown>; sequence: number }>;
}

/** What the files hold, as read: the store's state at the last change. */
export interface StoredData {
  sequence: number;
  readonly leases: Map<string, number>;
  readonly databases: Map<string, Map<string, StoredContainer>>;
}

export class DataFileError extends Error {
  override readonly name = "DataFileError";
  constructor(file: string, where: string, problem: string) {
    super(
      `The local data file ${file} cannot be used: ${where ? `${where}: ` : ""}${problem}. ` +
        "Fix it, or start empty with npm run reset (which removes the local data).",
    );
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
/** A value as a message names it: its kind, and its start when it is short enough to say. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return `a ${typeof value} (${String(JSON.stringify(value)).slice(0, 40)})`;
}

function checkDefinition(definition: unknown, fail: (where: string, problem: string) => never, at: string) {
  if (!isObject(definition)) fail(at, `a container definition must be an object, not ${describe(definition)}`);
  if (typeof definition.id !== "string" || definition.id === "") fail(`${at}.id`, "a container needs an id");
  const paths = (definition.partitionKey as { paths?: unknown } | undefined)?.paths;
  if (
    definition.partitionKey !== undefined &&
    (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === "string" && p.startsWith("/")))
  ) {
    fail(`${at}.partitionKey.paths`, "must be a list of paths like /teamId");
  }
  return definitionOf(definition);
}

/** Puts a document into a container as read, refusing a second one under the same partition key and id. */
function addDocument(
  container: StoredContainer,
  document: Record<string, unknown>,
  sequence: number,
  fail: (problem: string) => never,
  replace: boolean,
) {
  if (typeof document.id !== "string" || document.id === "") fail("a document needs an id (a non-empty string)");
  const key = documentKey(partitionKeyValue(document, container.definition), document.id);
  if (!replace && container.documents.has(key)) {
    fail(
      `a second document with id ${JSON.stringify(document.id)} and partition key ${JSON.stringify(partitionKeyValue(document, container.definition))}`,
    );
  }
  container.documents.set(key, { document, sequence });
}

function readBase(file: string): StoredData {
  const fail: (where: string, problem: string) => never = (where, problem) => {
    throw new DataFileError(file, where, problem);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    return fail("", `it is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isObject(parsed)) return fail("", `it must be a JSON object, not ${describe(parsed)}`);
  const format = parsed.format;
  if (format !== SNAPSHOT_FORMAT && format !== FORMAT_1) {
    return fail("format", `${describe(format)} is not a store snapshot ("${SNAPSHOT_FORMAT}")`);
  }
  const withSequences = format === SNAPSHOT_FORMAT;
  const data: StoredData = { sequence: 0, leases: new Map(), databases: new Map() };
  if (withSequences) {
    if (!isCount(parsed.sequence)) fail("sequence", `must be a whole number, not ${describe(parsed.sequence)}`);
    data.sequence = parsed.sequence;
    if (!isObject(parsed.leases)) fail("leases", `must be an object, not ${describe(parsed.leases)}`);
    for (const [name, position] of Object.entries(parsed.leases)) {
      if (!isCount(position)) fail(`leases.${name}`, `must be a whole number, not ${describe(position)}`);
      data.leases.set(name, position);
    }
  }
  if (!Array.isArray(parsed.databases)) return fail("databases", `must be a list, not ${describe(parsed.databases)}`);
  for (const [d, database] of parsed.databases.entries()) {
    const at = `databases[${d}]`;
    if (!isObject(database)) fail(at, `must be an object, not ${describe(database)}`);
    const { id, containers } = database;
    if (typeof id !== "string" || id === "") fail(`${at}.id`, "a database needs an id");
    if (data.databases.has(id)) fail(`${at}.id`, `a second database ${JSON.stringify(id)}`);
    const byId = new Map<string, StoredContainer>();
    data.databases.set(id, byId);
    if (!Array.isArray(containers)) fail(`${at}.containers`, `must be a list, not ${describe(containers)}`);
    for (const [c, container] of (containers as unknown[]).entries()) {
      const cat = `${at}.containers[${c}]`;
      if (!isObject(container)) fail(cat, `must be an object, not ${describe(container)}`);
      const definition = checkDefinition(container.definition, fail, `${cat}.definition`);
      if (byId.has(definition.id)) fail(`${cat}.definition.id`, `a second container ${JSON.stringify(definition.id)}`);
      const entry = { definition, documents: new Map() };
      byId.set(definition.id, entry);
      if (!Array.isArray(container.documents)) {
        fail(`${cat}.documents`, `must be a list, not ${describe(container.documents)}`);
      }
      for (const [i, item] of (container.documents as unknown[]).entries()) {
        const dat = `${cat}.documents[${i}]`;
        let document = item;
        let sequence = 0;
        if (withSequences) {
          if (!isObject(item)) fail(dat, `must be an object, not ${describe(item)}`);
          const entryOf = item;
          if (!isCount(entryOf.sequence) || entryOf.sequence > data.sequence) {
            fail(`${dat}.sequence`, `must be a whole number up to ${data.sequence}, not ${describe(entryOf.sequence)}`);
          }
          sequence = entryOf.sequence;
          document = entryOf.document;
        }
        const where = withSequences ? `${dat}.document` : dat;
        if (!isObject(document)) fail(where, `a document must be an object, not ${describe(document)}`);
        addDocument(entry, withoutSystemFields(document), sequence, (p) => fail(where, p), false);
      }
    }
  }
  return data;
}

/** Applies the journal's lines after the base's last change; a last line cut short by a crash is ignored. */
function applyJournal(file: string, data: StoredData, warn: (message: string) => void): number {
  const text = readFileSync(file, "utf8");
  const lines = text.split("\n");
  const last = lines.pop() ?? "";
  let applied = 0;
  const apply = (line: string, n: number) => {
    const fail: (problem: string) => never = (problem) => {
      throw new DataFileError(file, `line ${n}`, problem);
    };
    let change: unknown;
    try {
      change = JSON.parse(line);
    } catch (error) {
      return fail(`it is not JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    if (!isObject(change)) return fail(`a change must be an object, not ${describe(change)}`);
    if (typeof change.lease === "string") {
      if (!isCount(change.position)) fail(`position must be a whole number, not ${describe(change.position)}`);
      data.leases.set(change.lease, change.position);
      return;
    }
    if (!isCount(change.sequence)) return fail(`sequence must be a whole number, not ${describe(change.sequence)}`);
    if (change.sequence <= data.sequence) return; // already in the base
    data.sequence = change.sequence;
    applied++;
    if (typeof change.database !== "string") return fail("a change names its database");
    const database = data.databases.get(change.database);
    if (change.container === undefined) {
      if (change.dropped === true) data.databases.delete(change.database);
      else if (!database) data.databases.set(change.database, new Map());
      return;
    }
    if (!database) return fail(`database ${JSON.stringify(change.database)} does not exist at that point`);
    if (typeof change.container !== "string") return fail("container must be a string");
    if (change.dropped === true) return void database.delete(change.container);
    if (change.definition !== undefined) {
      const definition = checkDefinition(change.definition, (w, p) => fail(`${w}: ${p}`), "definition");
      const existing = database.get(change.container);
      if (existing) existing.definition = definition;
      else database.set(change.container, { definition, documents: new Map() });
      return;
    }
    const container = database.get(change.container);
    if (!container) return fail(`container ${JSON.stringify(change.container)} does not exist at that point`);
    if (isObject(change.deleted)) {
      if (typeof change.deleted.id !== "string") return fail("deleted.id must be a string");
      container.documents.delete(documentKey(change.deleted.partitionKey, change.deleted.id));
      return;
    }
    if (!isObject(change.document)) return fail(`document must be an object, not ${describe(change.document)}`);
    addDocument(container, change.document, change.sequence, fail, true);
  };
  for (const [i, line] of lines.entries()) if (line.trim() !== "") apply(line, i + 1);
  if (last.trim() !== "") {
    try {
      JSON.parse(last);
      apply(last, lines.length + 1);
    } catch (error) {
      if (error instanceof DataFileError) throw error;
      warn(`${file}: its last line was cut short (a crash while writing it, before it was acknowledged): ignored`);
    }
  }
  return applied;
}

/** The data the files hold, or undefined when there are none. */
export function loadStoreFiles(
  file: string,
  warn: (message: string) => void = () => undefined,
): StoredData | undefined {
  const journal = journalFileOf(file);
  if (!existsSync(file) && !existsSync(journal)) return undefined;
  const data = existsSync(file) ? readBase(file) : { sequence: 0, leases: new Map(), databases: new Map() };
  if (existsSync(journal)) applyJournal(journal, data, warn);
  return data;
}

// ---------------------------------------------------------------- writing

/** Appends lines to the journal in order, each write resolving once its line is in the file. */
class Journal {
  #handle: FileHandle | undefined;
  readonly #file: string;
  #queue: Array<{ readonly line?: string; readonly run?: () => Promise<void>; readonly done: (e?: Error) => void }> =
    [];
  #running = false;
  /** Lines appended since a compaction began (kept for the journal that follows it). */
  #sinceCompaction: string[] | undefined;
  bytes: number;

  constructor(file: string) {
    this.#file = file;
    this.bytes = existsSync(file) ? statSync(file).size : 0;
  }

  append(line: string): Promise<void> {
    this.#sinceCompaction?.push(line);
    return this.#enqueue({ line });
  }

  /** From now on, remembers the lines appended, for `restart`. */
  beginCompaction(): void {
    this.#sinceCompaction = [];
  }

  /** Starts the journal anew with only the lines appended since `beginCompaction` (the base holds the rest). */
  restart(): Promise<void> {
    const kept = this.#sinceCompaction ?? [];
    this.#sinceCompaction = undefined;
    return this.#enqueue({
      run: async () => {
        await this.#handle?.close();
        this.#handle = undefined;
        const partial = `${this.#file}.partial`;
        await writeFile(partial, kept.join(""));
        await rename(partial, this.#file);
        this.bytes = Buffer.byteLength(kept.join(""));
      },
    });
  }

  abandonCompaction(): void {
    this.#sinceCompaction = undefined;
  }

  #enqueue(item: { line?: string; run?: () => Promise<void> }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ ...item, done: (error) => (error ? reject(error) : resolve()) });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      if (head.run) {
        this.#queue.shift();
        await head.run().then(
          () => head.done(),
          (error: unknown) => head.done(asError(error)),
        );
        continue;
      }
      // Every line waiting, in one write.
      const end = this.#queue.findIndex((item) => item.run);
      const lines = this.#queue.splice(0, end === -1 ? this.#queue.length : end);
      const text = lines.map((item) => item.line).join("");
      try {
        this.#handle ??= await open(this.#file, "a");
        await this.#handle.appendFile(text);
        this.bytes += Buffer.byteLength(text);
        for (const item of lines) item.done();
      } catch (error) {
        for (const item of lines) item.done(asError(error));
      }
    }
    this.#running = false;
  }

  async close(): Promise<void> {
    await this.#enqueue({ run: () => Promise.resolve() });
    await this.#handle?.close();
    this.#handle = undefined;
  }
}

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));
const lineOf = (change: StoreChange) => `${JSON.stringify(change)}\n`;

/** Writes the mirror as a base file, in slices; the store keeps answering between them. */
async function writeBase(file: string, mirror: StoreMirror): Promise<number> {
  // What the base holds: the mirror as it is now (documents are replaced, never changed, so references suffice).
  const sequence = mirror.sequence;
  const leases = Object.fromEntries(mirror.leases);
  const databases = [...mirror.databases].map(([id, containers]) => ({
    id,
    containers: [...containers.values()].map((c) => ({
      definition: c.definition,
      documents: [...c.documents.values()],
    })),
  }));
  mkdirSync(dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  const out = createWriteStream(partial);
  const failed = new Promise<never>((_, reject) => out.once("error", reject));
  failed.catch(() => undefined);
  const write = async (text: string) => {
    if (!out.write(text)) await Promise.race([new Promise<void>((r) => out.once("drain", () => r())), failed]);
  };
  const head = JSON.stringify({ format: SNAPSHOT_FORMAT, savedAt: new Date().toISOString(), sequence, leases });
  await write(`${head.slice(0, -1)},"databases":[`);
  for (const [d, database] of databases.entries()) {
    await write(`${d ? "," : ""}{"id":${JSON.stringify(database.id)},"containers":[`);
    for (const [c, container] of database.containers.entries()) {
      await write(`${c ? "," : ""}{"definition":${JSON.stringify(container.definition)},"documents":[`);
      for (let at = 0; at < container.documents.length; at += SLICE) {
        const slice = container.documents.slice(at, at + SLICE);
        await write(
          (at ? "," : "") + slice.map((doc) => `{"sequence":${doc.sequence},"document":${doc.text}}`).join(","),
        );
        await yieldToRequests();
      }
      await write("]}");
    }
    await write("]}");
  }
  await write("]}\n");
  await Promise.race([new Promise<void>((resolve) => out.end(resolve)), failed]);
  renameSync(partial, file);
  return out.bytesWritten;
}

// ---------------------------------------------------------------- the keeper

export interface SnapshotKeeper {
  /** Documents restored when the store started. */
  readonly restored: number;
  /** What the store holds, and its change feed. */
  readonly mirror: StoreMirror;
  /** Follows a request to the embedded server: a write is on the mirror (and in the journal) before it is answered. */
  follow(req: IncomingMessage, res: ServerResponse): void;
  /** Records a trigger's position in the change feed (kept with the data). */
  readonly saveLease: (name: string, position: number) => Promise<void>;
  /** Writes the base if anything changed since the last one, and stops. */
  close(): Promise<void>;
}

export interface KeeperOptions {
  readonly endpoint: string;
  readonly key: string;
  /** The base file; none: the mirror alone, in memory (the change feed still reads it). */
  readonly file?: string;
  readonly log?: StoreLog;
}

/** Where the keeper reports: a warning when something could not be done, debug for what it did. */
export type StoreLog = (level: "warning" | "debug", message: string) => void;

/** Restores the files (when they exist) into the store at `endpoint`, then keeps them up to date. */
export async function keepSnapshots(options: KeeperOptions): Promise<SnapshotKeeper> {
  const log = options.log ?? (() => undefined);
  const warn = (message: string) => log("warning", message);
  const { file } = options;
  const data = file ? loadStoreFiles(file, warn) : undefined;
  const mirror = new StoreMirror();
  const client = new CosmosClient({
    endpoint: options.endpoint,
    key: options.key,
    ...cosmosClientOptions(options.endpoint),
  });
  let following = false;
  let restored = 0;
  if (data) {
    restored = await restore(client, data, mirror);
    for (const [name, position] of data.leases) mirror.leases.set(name, position);
    mirror.sequence = data.sequence;
  }
  following = true;

  const journal = file ? new Journal(journalFileOf(file)) : undefined;
  let baseBytes = file && existsSync(file) ? statSync(file).size : 0;
  let compacting: Promise<void> | undefined;
  let changedSinceBase = false;
  const compact = () => {
    if (!file || !journal || compacting) return compacting;
    journal.beginCompaction();
    const started = performance.now();
    compacting = writeBase(file, mirror)
      .then(async (bytes) => {
        baseBytes = bytes;
        await journal.restart();
        changedSinceBase = false;
        log("debug", `local store saved to ${file} (${bytes} bytes, ${(performance.now() - started).toFixed(0)} ms)`);
      })
      .catch((error: unknown) => {
        journal.abandonCompaction();
        warn(`could not save the local store to ${file}: ${String(error)}`);
      })
      .finally(() => (compacting = undefined));
    return compacting;
  };
  const record = async (change: StoreChange) => {
    if (!journal) return;
    changedSinceBase = true;
    await journal.append(lineOf(change));
    if (journal.bytes > Math.max(COMPACT_MIN_BYTES, baseBytes * COMPACT_SHARE)) void compact();
  };

  // A start that read a journal, or an earlier format, or nothing, begins with a base of its own.
  if (file && journal && (journal.bytes > 0 || !existsSync(file) || data?.sequence === 0)) {
    changedSinceBase = true;
    await compact();
  }

  let resyncing: Promise<void> | undefined;
  const resync = () => {
    resyncing ??= readAgain(client, mirror, record)
      .catch((error: unknown) => warn(`could not read the local store again: ${String(error)}`))
      .finally(() => (resyncing = undefined));
  };

  const follow = (req: IncomingMessage, res: ServerResponse) => {
    if (!following) return;
    const write: StoreWrite | undefined = writeOf(req);
    if (!write) return;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      res.end = end as ServerResponse["end"];
      if (res.statusCode < 200 || res.statusCode >= 300) return end(...args);
      const [chunk] = args;
      const body = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : "";
      const change = mirror.apply(write, body);
      if (!change) {
        resync();
        return end(...args);
      }
      if (!journal) return end(...args);
      // Acknowledged only once the change is on disk.
      record(change).then(
        () => end(...args),
        (error: unknown) => {
          warn(`could not write the local store's journal: ${String(error)}`);
          res.statusCode = 503;
          end(JSON.stringify({ code: "ServiceUnavailable", message: "The local data could not be written." }));
        },
      );
      return res;
    }) as ServerResponse["end"];
  };

  return {
    restored,
    mirror,
    follow,
    saveLease: async (name, position) => {
      if (mirror.leases.get(name) === position) return;
      await record(mirror.lease(name, position));
    },
    close: async () => {
      following = false;
      await resyncing;
      await compacting;
      if (changedSinceBase) await compact();
      await journal?.close();
      client.dispose();
    },
  };
}

/** Documents per request when restoring: Cosmos DB's most per transactional batch, all of one partition key. */
const RESTORE_BATCH = 100;
/** Batches in flight at once while restoring. */
const RESTORE_CONCURRENCY = 8;

/** Puts what the files hold into an empty store, and on the mirror with their sequence numbers. */
async function restore(client: CosmosClient, data: StoredData, mirror: StoreMirror): Promise<number> {
  let count = 0;
  for (const [id, containers] of data.databases) {
    const { database } = await client.databases.createIfNotExists({ id });
    const mirrored = new Map<string, MirroredContainer>();
    mirror.databases.set(id, mirrored);
    for (const [containerId, { definition, documents }] of containers) {
      const { container } = await database.containers.createIfNotExists({
        ...(definition as object),
        id: containerId,
      });
      const target = newContainer(definition);
      mirrored.set(containerId, target);
      // Created in batches of one partition key each; on the mirror in the order of their changes.
      const byPartition = new Map<string, Array<{ document: Record<string, unknown>; sequence: number }>>();
      for (const entry of documents.values()) {
        const key = JSON.stringify(partitionKeyValue(entry.document, definition) ?? null);
        const group = byPartition.get(key);
        if (group) group.push(entry);
        else byPartition.set(key, [entry]);
      }
      const batches = [...byPartition.values()].flatMap((entries) =>
        Array.from({ length: Math.ceil(entries.length / RESTORE_BATCH) }, (_, i) =>
          entries.slice(i * RESTORE_BATCH, (i + 1) * RESTORE_BATCH),
        ),
      );
      const created: Array<{ document: Record<string, unknown>; sequence: number; etag: string; ts: number }> = [];
      const work = [...batches];
      await Promise.all(
        Array.from({ length: RESTORE_CONCURRENCY }, async () => {
          for (let batch = work.shift(); batch; batch = work.shift()) {
            const partitionKey = partitionKeyValue(batch[0]!.document, definition) as PartitionKey;
            const { result } = await container.items.batch(
              batch.map(({ document }) => ({ operationType: "Create" as const, resourceBody: document as JSONObject })),
              partitionKey,
            );
            for (const [i, answer] of (result ?? []).entries()) {
              const body = answer.resourceBody;
              if (answer.statusCode >= 300 || !body) {
                throw new Error(`could not restore document ${String(batch[i]!.document.id)}: ${answer.statusCode}`);
              }
              const etag = typeof body._etag === "string" ? body._etag : "";
              created.push({ ...batch[i]!, etag, ts: Number(body._ts) });
            }
          }
        }),
      );
      created.sort((a, b) => a.sequence - b.sequence);
      for (const { document, sequence, etag, ts } of created) mirror.put(target, document, { etag, ts, sequence });
      count += created.length;
    }
  }
  return count;
}

/** Reads the whole store again after a write the mirror could not follow, and records what differs. */
async function readAgain(
  client: CosmosClient,
  mirror: StoreMirror,
  record: (change: StoreChange) => Promise<void>,
): Promise<void> {
  const { resources: databases } = await client.databases.readAll().fetchAll();
  for (const gone of [...mirror.databases.keys()].filter((id) => !databases.some((d) => d.id === id))) {
    mirror.databases.delete(gone);
    await record({ sequence: ++mirror.sequence, database: gone, dropped: true });
  }
  for (const { id } of databases) {
    if (!mirror.databases.has(id)) {
      mirror.databases.set(id, new Map());
      await record({ sequence: ++mirror.sequence, database: id });
    }
    const containers = mirror.databases.get(id)!;
    const { resources: found } = await client.database(id).containers.readAll().fetchAll();
    for (const gone of [...containers.keys()].filter((c) => !found.some((f) => f.id === c))) {
      containers.delete(gone);
      await record({ sequence: ++mirror.sequence, database: id, container: gone, dropped: true });
    }
    for (const resource of found) {
      const definition = definitionOf(resource as unknown as Record<string, unknown>);
      if (JSON.stringify(containers.get(resource.id)?.definition) !== JSON.stringify(definition)) {
        const existing = containers.get(resource.id);
        if (existing) existing.definition = definition;
        else containers.set(resource.id, newContainer(definition));
        await record({ sequence: ++mirror.sequence, database: id, container: resource.id, definition });
      }
      const container = containers.get(resource.id)!;
      const { resources: documents } = await client
        .database(id)
        .container(resource.id)
        .items.readAll<Record<string, unknown>>()
        .fetchAll();
      const seen = new Set<string>();
      for (const doc of documents) {
        const document = withoutSystemFields(doc);
        const key = documentKey(partitionKeyValue(document, definition), String(document.id));
        seen.add(key);
        if (container.documents.get(key)?.text === JSON.stringify(document)) continue;
        const sequence = ++mirror.sequence;
        mirror.put(container, document, { etag: String(doc._etag), ts: Number(doc._ts), sequence });
        await record({ sequence, database: id, container: resource.id, document });
        mirror.changed();
      }
      for (const [key, entry] of [...container.documents].filter(([k]) => !seen.has(k))) {
        container.documents.delete(key);
        const document = JSON.parse(entry.text) as Record<string, unknown>;
        await record({
          sequence: ++mirror.sequence,
          database: id,
          container: resource.id,
          deleted: { id: String(document.id), partitionKey: partitionKeyValue(document, definition) ?? null },
        });
      }
    }
  }
}
