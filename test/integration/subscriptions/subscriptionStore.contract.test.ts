/**
 * The subscription store's contract (test/support/subscriptionStoreContract.ts), held by the Cosmos DB store on the
 * embedded server through `@azure/cosmos`, in a container made as the local runner makes it, and by the in-memory
 * store the handler tests stand on.
 */
import { CosmosClient } from "@azure/cosmos";
import { afterAll, beforeAll } from "vitest";
import { ensureLocalContainer, startEmbeddedCosmos, type EmbeddedCosmos } from "../../../local/embeddedCosmos.js";
import { cosmosClientOptions, StoreContainer } from "../../../shared/store/cosmos.js";
import { CosmosSubscriptionStore } from "../../../shared/store/subscriptions.js";
import { MemorySubscriptionStore } from "../../support/memorySubscriptionStore.js";
import { subscriptionStoreContract } from "../../support/subscriptionStoreContract.js";

let cosmos: EmbeddedCosmos;
let client: CosmosClient;
let cosmosStore: CosmosSubscriptionStore;

beforeAll(async () => {
  cosmos = await startEmbeddedCosmos();
  await ensureLocalContainer(cosmos.endpoint, cosmos.key, "teamops", "subscriptions", "subscriptions");
  client = new CosmosClient({ endpoint: cosmos.endpoint, key: cosmos.key, ...cosmosClientOptions(cosmos.endpoint) });
  cosmosStore = new CosmosSubscriptionStore(new StoreContainer(client.database("teamops").container("subscriptions")));
});
afterAll(async () => {
  client?.dispose();
  await cosmos?.close();
});

subscriptionStoreContract("CosmosSubscriptionStore on the embedded server", () => cosmosStore);

const memoryStore = new MemorySubscriptionStore();
subscriptionStoreContract("MemorySubscriptionStore", () => memoryStore);
