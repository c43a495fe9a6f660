/**
 * One contract, two stores: the in-memory OperationStore of the handler tests and the Cosmos DB store on the
 * embedded server (through @azure/cosmos, in a container made as the local runner makes it, with its indexing
 * policy) answer every call of the interface alike (test/support/operationStoreContract.ts).
 */
import { CosmosClient } from "@azure/cosmos";
import { afterAll, beforeAll, describe } from "vitest";
import { ensureLocalContainer, startEmbeddedCosmos, type EmbeddedCosmos } from "../../../local/embeddedCosmos.js";
import { COSMOS_DEFAULTS } from "../../../shared/config.js";
import { cosmosClientOptions, StoreContainer } from "../../../shared/store/cosmos.js";
import { CosmosOperationStore } from "../../../shared/store/operations.js";
import { MemoryOperationStore } from "../../support/memoryStore.js";
import { operationStoreContract } from "../../support/operationStoreContract.js";

describe("the in-memory operation store", () => {
  const store = new MemoryOperationStore();
  operationStoreContract({ store: () => store });
});

describe("the Cosmos DB operation store, on the embedded server", () => {
  let cosmos: EmbeddedCosmos;
  let client: CosmosClient;
  let store: CosmosOperationStore;

  beforeAll(async () => {
    cosmos = await startEmbeddedCosmos();
    await ensureLocalContainer(cosmos.endpoint, cosmos.key, COSMOS_DEFAULTS.database, "operations");
    client = new CosmosClient({ endpoint: cosmos.endpoint, key: cosmos.key, ...cosmosClientOptions(cosmos.endpoint) });
    const container = client.database(COSMOS_DEFAULTS.database).container("operations");
    store = new CosmosOperationStore(new StoreContainer(container));
  });

  afterAll(async () => {
    client?.dispose();
    await cosmos?.close();
  });

  operationStoreContract({ store: () => store });
});
