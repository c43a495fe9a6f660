/**
 * Keeps the embedded store's data across restarts. The embedded server holds
 * everything in memory, so its contents (databases, containers with their
 * settings, documents) are written to one JSON file: shortly after a change
 * (at most `intervalMs` later) and once more when the store is closed, after
 * the API has stopped taking requests; the file is restored when the store
 * starts. The file is replaced atomically (written beside it, then renamed),
 * so a crash mid-write leaves the previous snapshot whole.
 *
 * What a crash (SIGKILL) can lose: the changes acknowledged since the last
 * snapshot began, at most about `intervalMs` plus one snapshot's duration.
 * A graceful stop loses nothing. Documents get new ETags and `_ts` when they
 * are restored (the server assigns both), so an ETag held across a restart
 * gets a 412 and the client reads again, as after any concurrent change.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { dirname } from "node:path";
import { CosmosClient, type ContainerDefinition } from "@azure/cosmos";
import { cosmosClientOptions } from "../shared/store/operationStore.js";

export const SNAPSHOT_FORMAT = "team-operations-local-store/1";

interface Snapshot {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly savedAt: string;
  readonly databases: Array<{
    readonly id: string;
    readonly containers: Array<{
      readonly definition: ContainerDefinition;
      readonly documents: Array<Record<string, unknown>>;
    }>;
  }>;
}

const SYSTEM_FIELDS = ["_rid", "_self", "_etag", "_attachments", "_ts", "_lsn"];
const CONTAINER_SETTINGS = ["id", "partitionKey", "defaultTtl", "indexingPolicy", "uniqueKeyPolicy"] as const;

function withoutSystemFields(document: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...document };
  for (const field of SYSTEM_FIELDS) delete copy[field];
  return copy;
}

/** Whether a request to the embedded server may change data (queries are POSTs too, but say so in a header). */
export function isWrite(req: Pick<IncomingMessage, "method" | "headers">): boolean {
  const method = (req.method ?? "GET").toUpperCase();
  if (method === "GET" || method === "HEAD") return false;
  return !(method === "POST" && String(req.headers["x-ms-documentdb-isquery"]).toLowerCase() === "true");
}

/** Reads everything the store holds. */
export async function readSnapshot(client: CosmosClient): Promise<Snapshot> {
  const { resources: databases } = await client.databases.readAll().fetchAll();
  const out: Snapshot = { format: SNAPSHOT_FORMAT, savedAt: new Date().toISOString(), databases: [] };
  for (const { id } of databases) {
    const database = client.database(id);
    const { resources: containers } = await database.containers.readAll().fetchAll();
    const entry: Snapshot["databases"][number] = { id, containers: [] };
    for (const container of containers) {
      const definition = Object.fromEntries(
        CONTAINER_SETTINGS.filter((key) => container[key] !== undefined).map((key) => [key, container[key]]),
      ) as ContainerDefinition;
      const { resources } = await database.container(container.id).items.readAll<Record<string, unknown>>().fetchAll();
      entry.containers.push({ definition, documents: resources.map(withoutSystemFields) });
    }
    out.databases.push(entry);
  }
  return out;
}

/** Puts a snapshot's databases, containers and documents into an empty store; returns the number of documents. */
export async function writeSnapshot(client: CosmosClient, snapshot: Snapshot): Promise<number> {
  let count = 0;
  for (const { id, containers } of snapshot.databases) {
    const { database } = await client.databases.createIfNotExists({ id });
    for (const { definition, documents } of containers) {
      const { container } = await database.containers.createIfNotExists(definition);
      // A few at a time: the server is in this process, so a burst only queues up behind itself.
      for (let at = 0; at < documents.length; at += 64) {
        await Promise.all(documents.slice(at, at + 64).map((document) => container.items.create(document)));
      }
      count += documents.length;
    }
  }
  return count;
}

export function loadSnapshotFile(file: string): Snapshot | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: Snapshot;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  } catch (error) {
    throw new Error(`The local data file ${file} cannot be read (${String(error)}); npm run reset starts empty.`);
  }
  if (parsed.format !== SNAPSHOT_FORMAT || !Array.isArray(parsed.databases)) {
    throw new Error(`The local data file ${file} is not a store snapshot; npm run reset starts empty.`);
  }
  return parsed;
}

function saveSnapshotFile(file: string, snapshot: Snapshot): void {
  mkdirSync(dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  writeFileSync(partial, JSON.stringify(snapshot));
  renameSync(partial, file);
}

export interface SnapshotKeeper {
  /** Documents restored when the store started. */
  readonly restored: number;
  /** Notes that the store may have changed. */
  changed(): void;
  /** Writes a last snapshot if anything changed since the previous one, and stops. */
  close(): Promise<void>;
}

/** Restores `file` into the store at `endpoint` (if it exists), then keeps it up to date. */
export async function keepSnapshots(options: {
  readonly endpoint: string;
  readonly key: string;
  readonly file: string;
  readonly intervalMs?: number;
  readonly log?: (message: string) => void;
}): Promise<SnapshotKeeper> {
  const client = new CosmosClient({
    endpoint: options.endpoint,
    key: options.key,
    ...cosmosClientOptions(options.endpoint),
  });
  const snapshot = loadSnapshotFile(options.file);
  const restored = snapshot ? await writeSnapshot(client, snapshot) : 0;
  let dirty = false;
  let saving: Promise<void> | undefined;
  const save = async () => {
    dirty = false;
    try {
      saveSnapshotFile(options.file, await readSnapshot(client));
    } catch (error) {
      dirty = true;
      options.log?.(`could not save the local store to ${options.file}: ${String(error)}`);
    }
  };
  const timer = setInterval(() => {
    if (dirty && !saving) saving = save().finally(() => (saving = undefined));
  }, options.intervalMs ?? 1_000);
  timer.unref();
  return {
    restored,
    changed: () => {
      dirty = true;
    },
    close: async () => {
      clearInterval(timer);
      await saving;
      if (dirty) await save();
      client.dispose();
    },
  };
}
