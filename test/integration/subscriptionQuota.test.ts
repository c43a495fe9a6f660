/**
 * The per-tenant subscription limit against the embedded Cosmos DB server, through the store the API uses: one
 * quota document per tenant changed with ETags, so concurrent claims never take more slots than the limit leaves.
 */
import { randomUUID } from "node:crypto";
import { CosmosClient, type Container } from "@azure/cosmos";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureLocalContainer, startEmbeddedCosmos, type EmbeddedCosmos } from "../../local/embeddedCosmos.js";
import { cosmosClientOptions, StoreContainer } from "../../shared/store/cosmos.js";
import { claimSlot, releaseSlot, slotsHeld } from "../../shared/subscriptions/quota.js";
import { CosmosSubscriptionStore } from "../../shared/store/subscriptions.js";
import { waitFor } from "../support/receiver.js";
import { inMinutes } from "../support/subscriptionCalls.js";

let cosmos: EmbeddedCosmos;
let client: CosmosClient;
let container: Container;
let store: CosmosSubscriptionStore;

const slot = (expirationDateTime = inMinutes(30)) => ({ id: randomUUID(), expirationDateTime });

beforeAll(async () => {
  cosmos = await startEmbeddedCosmos();
  await ensureLocalContainer(cosmos.endpoint, cosmos.key, "teamops", "subscriptions", "subscriptions");
  client = new CosmosClient({ endpoint: cosmos.endpoint, key: cosmos.key, ...cosmosClientOptions(cosmos.endpoint) });
  container = client.database("teamops").container("subscriptions");
  store = new CosmosSubscriptionStore(new StoreContainer(container));
});
afterAll(async () => {
  client?.dispose();
  await cosmos?.close();
});

describe("the per-tenant quota", () => {
  it("of 25 concurrent claims for 5 free slots, exactly 5 win", async () => {
    const tenant = randomUUID();
    const outcomes = await Promise.all(Array.from({ length: 25 }, () => claimSlot(store, tenant, slot(), 5)));
    expect(outcomes.filter((o) => o.claimed)).toHaveLength(5);
    expect(outcomes.filter((o) => !o.claimed)).toEqual(Array.from({ length: 20 }, () => ({ claimed: false, held: 5 })));
    expect(await slotsHeld(store, tenant)).toBe(5);
  });

  it("frees a slot on release and at its expiration; a renewal moves a slot, past the limit too", async () => {
    const tenant = randomUUID();
    const first = slot();
    const lapsing = slot(new Date(Date.now() + 1_500).toISOString());
    expect(await claimSlot(store, tenant, first, 2)).toEqual({ claimed: true });
    expect(await claimSlot(store, tenant, lapsing, 2)).toEqual({ claimed: true });
    expect(await claimSlot(store, tenant, slot(), 2)).toEqual({ claimed: false, held: 2 });
    // Renewing a held slot is never refused, and takes no second slot.
    expect(await claimSlot(store, tenant, { ...first, expirationDateTime: inMinutes(60) }, 2)).toEqual({
      claimed: true,
    });
    expect(await claimSlot(store, tenant, { ...first, expirationDateTime: inMinutes(90) })).toEqual({ claimed: true });
    expect(await slotsHeld(store, tenant)).toBe(2);
    await waitFor(async () => (await slotsHeld(store, tenant)) === 1, "the lapsing slot's expiration");
    const next = slot();
    expect(await claimSlot(store, tenant, next, 2)).toEqual({ claimed: true });
    await releaseSlot(store, tenant, first.id);
    await releaseSlot(store, tenant, randomUUID()); // not held: nothing to do
    expect(await slotsHeld(store, tenant)).toBe(1);
    const { resource } = await container.item("tenantQuota", tenant).read();
    expect(resource.slots).toEqual([next]);
  });

  it("starts a tenant without a quota document from its live subscriptions", async () => {
    const tenant = randomUUID();
    const team = randomUUID();
    const subscription = (expirationDateTime: string) => ({
      id: randomUUID(),
      resourceKey: `${tenant}:${team}`,
      tenantId: tenant,
      creator: { kind: "application", id: "app" },
      expirationDateTime,
    });
    await container.items.create(subscription(inMinutes(30)));
    await container.items.create(subscription(inMinutes(-1)));
    expect(await slotsHeld(store, tenant)).toBe(1);
    expect(await claimSlot(store, tenant, slot(), 2)).toEqual({ claimed: true });
    expect(await claimSlot(store, tenant, slot(), 2)).toEqual({ claimed: false, held: 2 });
  });
});
