/**
 * The per-tenant subscription limit under concurrency, over a small fake of the store's two quota calls: a slot is
 * taken with a conditional write, re-read and retried when another write got in first, and expired slots lapse.
 */
import { describe, expect, it } from "vitest";
import { claimSlot, releaseSlot, slotsHeld } from "../../../shared/subscriptions/quota.js";
import type { QuotaSlot, SubscriptionStore, TenantSlots } from "../../../shared/store/subscriptions.js";

const TENANT = "aaaaaaaa-0000-4000-8000-00000000000a";
const later = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

/** One tenant's quota document with an ETag; `beatenWrites` writes from elsewhere get in before ours. */
class FakeQuota {
  slots: readonly QuotaSlot[] = [];
  version = 0;
  beatenWrites = 0;
  writes = 0;

  readonly store = {
    readSlots: async (): Promise<TenantSlots> => ({ slots: this.slots, etag: String(this.version) }),
    writeSlots: async (_tenant: string, slots: readonly QuotaSlot[], etag: string | undefined) => {
      this.writes++;
      if (this.beatenWrites > 0) {
        this.beatenWrites--;
        this.version++;
        return false;
      }
      if (etag !== String(this.version)) return false;
      this.slots = slots;
      this.version++;
      return true;
    },
  } as unknown as SubscriptionStore;
}

describe("the subscription quota", () => {
  it("takes a slot while fewer than the limit are held, and refuses one past it", async () => {
    const quota = new FakeQuota();
    await expect(claimSlot(quota.store, TENANT, { id: "a", expirationDateTime: later(60) }, 2)).resolves.toEqual({
      claimed: true,
    });
    await claimSlot(quota.store, TENANT, { id: "b", expirationDateTime: later(60) }, 2);
    await expect(claimSlot(quota.store, TENANT, { id: "c", expirationDateTime: later(60) }, 2)).resolves.toEqual({
      claimed: false,
      held: 2,
    });
    expect(await slotsHeld(quota.store, TENANT)).toBe(2);
  });

  it("moves a held slot on renewal, even at the limit", async () => {
    const quota = new FakeQuota();
    await claimSlot(quota.store, TENANT, { id: "a", expirationDateTime: later(60) }, 1);
    const renewed = { id: "a", expirationDateTime: later(120) };
    await expect(claimSlot(quota.store, TENANT, renewed, 1)).resolves.toEqual({ claimed: true });
    expect(quota.slots).toEqual([renewed]);
  });

  it("drops expired slots: a slot whose release was lost lapses", async () => {
    const quota = new FakeQuota();
    quota.slots = [{ id: "lost", expirationDateTime: later(-1) }];
    expect(await slotsHeld(quota.store, TENANT)).toBe(0);
    await expect(claimSlot(quota.store, TENANT, { id: "a", expirationDateTime: later(60) }, 1)).resolves.toEqual({
      claimed: true,
    });
    expect(quota.slots.map((s) => s.id)).toEqual(["a"]);
  });

  it("re-reads and retries when another write got in first", async () => {
    const quota = new FakeQuota();
    quota.beatenWrites = 3;
    await expect(claimSlot(quota.store, TENANT, { id: "a", expirationDateTime: later(60) }, 5)).resolves.toEqual({
      claimed: true,
    });
    expect(quota.writes).toBe(4);
    expect(quota.slots.map((s) => s.id)).toEqual(["a"]);
  });

  it("frees a slot, and writes nothing for a subscription that holds none", async () => {
    const quota = new FakeQuota();
    await claimSlot(quota.store, TENANT, { id: "a", expirationDateTime: later(60) });
    await releaseSlot(quota.store, TENANT, "a");
    expect(quota.slots).toEqual([]);
    const writes = quota.writes;
    await releaseSlot(quota.store, TENANT, "never-held");
    expect(quota.writes).toBe(writes);
  });
});
