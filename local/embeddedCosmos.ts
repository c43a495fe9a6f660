/**
 * The embedded store for local runs and tests: `@vercel/cosmosdb-server`, a
 * Cosmos DB wire-compatible server on loopback that `@azure/cosmos` talks to
 * exactly as it talks to Azure. It starts empty, so the database and the
 * container are created here; in Azure the infrastructure creates them.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CosmosClient, type Container, type ContainerRequest, type IndexingPolicy } from "@azure/cosmos";
import { embeddedStoreIndexingPolicy } from "../shared/store/indexingPolicy.js";
import { cosmosClientOptions } from "../shared/store/cosmos.js";
import type { StoreMirror } from "./storeMirror.js";
import { keepSnapshots, type SnapshotKeeper, type StoreLog } from "./storeSnapshot.js";

/** The embedded server accepts any key; this is the emulator's published key, so both work the same. */
export const LOCAL_COSMOS_KEY =
  "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==";

export interface EmbeddedCosmos {
  readonly endpoint: string;
  readonly key: string;
  /** With a data file: the documents restored from it at start. */
  readonly restored: number;
  /** With a data file or `changeFeed`: the local change feed over what the store holds, and where leases are kept. */
  readonly changeFeed?: LocalChangeFeed;
  /** Saves the data (with a data file) and stops the server. */
  close(): Promise<void>;
}

/** The embedded store's change feed (storeMirror.ts), for the local host's Cosmos DB triggers. */
export interface LocalChangeFeed {
  readonly mirror: StoreMirror;
  /** Records a trigger's position; with a data file, it is kept with the data. */
  readonly saveLease: (name: string, position: number) => Promise<void>;
}

export interface EmbeddedCosmosOptions {
  /** Where the data is kept across restarts (see storeSnapshot.ts); none: in memory only. */
  readonly dataFile?: string;
  /** Keep a change feed even without a data file. */
  readonly changeFeed?: boolean;
  readonly log?: StoreLog;
}

export async function startEmbeddedCosmos(
  port = 0,
  host = "127.0.0.1",
  options: EmbeddedCosmosOptions = {},
): Promise<EmbeddedCosmos> {
  // Loaded only here: the server and its dependencies are large, and a runner pointed at another store never needs them.
  const { createHttpServer } = await import("@vercel/cosmosdb-server");
  // Keep-alive: by default the server closes every connection, so each store call would pay a TCP connect.
  const server = createHttpServer({ keepAlive: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const endpoint = `http://${host}:${address.port}/`;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  let keeper: SnapshotKeeper | undefined;
  if (options.dataFile || options.changeFeed) {
    try {
      keeper = await keepSnapshots({ endpoint, key: LOCAL_COSMOS_KEY, file: options.dataFile, log: options.log });
    } catch (error) {
      await stop();
      throw error;
    }
    const snapshots = keeper;
    server.prependListener("request", (req: IncomingMessage, res: ServerResponse) => snapshots.follow(req, res));
  }
  return {
    endpoint,
    key: LOCAL_COSMOS_KEY,
    restored: keeper?.restored ?? 0,
    changeFeed: keeper && { mirror: keeper.mirror, saveLease: keeper.saveLease },
    close: async () => {
      await keeper?.close();
      await stop();
    },
  };
}

/**
 * `createIfNotExists` reads, then creates on a 404: two processes starting on one store (two runners, as two
 * instances would) can both read 404, and the later create is a 409. The thing exists then; read it again.
 */
async function existing<T>(createIfNotExists: () => Promise<T>): Promise<T> {
  try {
    return await createIfNotExists();
  } catch (error) {
    if ((error as { code?: unknown }).code !== 409) throw error;
    return await createIfNotExists();
  }
}

/** The local store's containers, defined as the infrastructure defines them in Azure (infra/modules/cosmos.bicep). */
const LOCAL_CONTAINERS = {
  /**
   * Partition key /teamId, with the indexing policy Azure gets: the embedded server refuses a multi-property ORDER
   * BY that no composite index serves.
   */
  operations: () => ({
    partitionKey: { paths: ["/teamId"] },
    defaultTtl: -1,
    indexingPolicy: embeddedStoreIndexingPolicy(),
  }),
  /** Partition key /resourceKey, TTL on. */
  subscriptions: () => ({ partitionKey: { paths: ["/resourceKey"] }, defaultTtl: -1 }),
} satisfies Record<string, () => Omit<ContainerRequest, "id">>;

const SYSTEM_FIELD = /^_(rid|self|etag|attachments|ts|lsn)$/;

/** A policy's composite indexes as text, whatever order the server writes each path's fields in. */
function composites(policy: IndexingPolicy | undefined): string {
  return JSON.stringify(
    (policy?.compositeIndexes ?? []).map((index) => index.map((p) => `${p.path} ${p.order ?? "ascending"}`)),
  );
}

/**
 * A container restored from a data folder an older version made keeps the composite indexes it was made with, and
 * the embedded server refuses the sorts only newer ones serve. Its definition is replaced, and since the embedded
 * server empties a container whose definition is replaced, its documents are written back (a store that keeps them,
 * such as the emulator, answers those writes 409: they are there).
 */
async function keepIndexingPolicy(container: Container, wanted: IndexingPolicy | undefined): Promise<void> {
  const { resource } = await container.read();
  if (!resource || !wanted || composites(resource.indexingPolicy) === composites(wanted)) return;
  const { resources } = await container.items.readAll<Record<string, unknown>>().fetchAll();
  await container.replace({ ...resource, indexingPolicy: wanted });
  for (const stored of resources) {
    // Without the server's own fields (those starting with "_"), which a create may not set.
    const document = Object.fromEntries(Object.entries(stored).filter(([name]) => !SYSTEM_FIELD.test(name)));
    await container.items.create(document).catch((error: unknown) => {
      if ((error as { code?: unknown }).code !== 409) throw error;
    });
  }
}

/** Creates the database and a container of the operations (or of the subscriptions) if they do not exist. */
export async function ensureLocalContainer(
  endpoint: string,
  key: string,
  database: string,
  container: string,
  kind: keyof typeof LOCAL_CONTAINERS = "operations",
): Promise<void> {
  const client = new CosmosClient({ endpoint, key, ...cosmosClientOptions(endpoint) });
  try {
    const db = (await existing(() => client.databases.createIfNotExists({ id: database }))).database;
    const definition = LOCAL_CONTAINERS[kind]();
    const made = await existing(() => db.containers.createIfNotExists({ id: container, ...definition }));
    await keepIndexingPolicy(made.container, (definition as ContainerRequest).indexingPolicy);
  } finally {
    client.dispose();
  }
}
