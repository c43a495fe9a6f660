/**
 * Two processes starting on one store (two runners, as two instances of the app would be) both create its
 * database and containers if they do not exist; neither start fails because the other was first.
 */
import { CosmosClient } from "@azure/cosmos";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ensureLocalContainer, startEmbeddedCosmos, type EmbeddedCosmos } from "../../local/embeddedCosmos.js";
import { cosmosClientOptions } from "../../shared/store/cosmos.js";

let cosmos: EmbeddedCosmos;
beforeAll(async () => {
  cosmos = await startEmbeddedCosmos();
});
afterAll(async () => {
  await cosmos?.close();
});

it("creates the database and containers once when many starts race for them", async () => {
  const starts = Array.from({ length: 8 }, (_, i) =>
    i % 2 === 0
      ? ensureLocalContainer(cosmos.endpoint, cosmos.key, "teamops", "operations")
      : ensureLocalContainer(cosmos.endpoint, cosmos.key, "teamops", "subscriptions", "subscriptions"),
  );
  const outcomes = await Promise.allSettled(starts);
  expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);
  const client = new CosmosClient({
    endpoint: cosmos.endpoint,
    key: cosmos.key,
    ...cosmosClientOptions(cosmos.endpoint),
  });
  try {
    const { resources } = await client.database("teamops").containers.readAll().fetchAll();
    expect(resources.map((c) => c.id).sort()).toEqual(["operations", "subscriptions"]);
  } finally {
    client.dispose();
  }
});
