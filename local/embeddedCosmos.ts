/**
 * The embedded store for local runs and tests: `@vercel/cosmosdb-server`, a
 * Cosmos DB wire-compatible server on loopback that `@azure/cosmos` talks to
 * exactly as it talks to Azure. It starts empty, so the database and the
 * container are created here; in Azure the infrastructure creates them.
 */
import type { AddressInfo } from "node:net";
import { CosmosClient } from "@azure/cosmos";
import { embeddedStoreIndexingPolicy } from "../shared/store/indexingPolicy.js";
import { cosmosClientOptions } from "../shared/store/operationStore.js";

/** The embedded server accepts any key; this is the emulator's published key, so both work the same. */
export const LOCAL_COSMOS_KEY =
  "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==";

export interface EmbeddedCosmos {
  readonly endpoint: string;
  readonly key: string;
  close(): Promise<void>;
}

export async function startEmbeddedCosmos(port = 0, host = "127.0.0.1"): Promise<EmbeddedCosmos> {
  // Loaded only here: the server and its dependencies are large, and a runner pointed at another store never needs them.
  const { createHttpServer } = await import("@vercel/cosmosdb-server");
  // Keep-alive: by default the server closes every connection, so each store call would pay a TCP connect.
  const server = createHttpServer({ keepAlive: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${address.port}/`,
    key: LOCAL_COSMOS_KEY,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Creates the database and the operations container (partition key /teamId) if they do not exist, with the
 * indexing policy Azure gets: the embedded server refuses a multi-property ORDER BY that no composite index serves.
 */
export async function ensureLocalContainer(
  endpoint: string,
  key: string,
  database: string,
  container: string,
): Promise<void> {
  const client = new CosmosClient({ endpoint, key, ...cosmosClientOptions(endpoint) });
  try {
    const { database: db } = await client.databases.createIfNotExists({ id: database });
    await db.containers.createIfNotExists({
      id: container,
      partitionKey: { paths: ["/teamId"] },
      defaultTtl: -1,
      indexingPolicy: embeddedStoreIndexingPolicy(),
    });
  } finally {
    client.dispose();
  }
}
