/**
 * The per-tenant subscription limit, held under concurrency. Subscriptions of a tenant live in many partitions
 * (one per team), so no query-then-create can hold a limit: two creates would both count one slot free. Instead
 * each tenant has one quota document (store.ts) listing the subscriptions it holds, each until its expiration, and
 * a create takes a slot in it with a conditional write (ETag) before the subscription is stored: of two creates
 * racing for the last slot, one write wins and the other re-reads and finds none left. Renewal moves a slot's
 * expiration; deletion and removal free it. A slot whose release was lost lapses at the expiration it records, so
 * the count never drifts for longer than a subscription could live.
 */
import { withBackoff } from "../contention.js";
import { isExpired } from "./model.js";
import type { QuotaSlot, SubscriptionStore } from "../store/subscriptions.js";

export type SlotOutcome = { readonly claimed: true } | { readonly claimed: false; readonly held: number };

/**
 * Rewrites a tenant's slots with `change` until the write is not beaten by another (or `change` decides to write
 * nothing, by returning undefined), with the app's contention backoff (contention.ts). Expired slots are dropped on
 * the way.
 */
function untilWritten<T>(
  store: SubscriptionStore,
  tenantId: string,
  change: (live: QuotaSlot[]) => { slots?: QuotaSlot[]; result: T },
): Promise<T> {
  return withBackoff<T>(async () => {
    const { slots, etag } = await store.readSlots(tenantId);
    const now = Date.now();
    const { slots: next, result } = change(slots.filter((s) => !isExpired(s, now)));
    if (next === undefined || (await store.writeSlots(tenantId, next, etag))) return { won: true, value: result };
    return { won: false };
  }, "The tenant's subscriptions are being changed concurrently; retry.");
}

/** How many live subscriptions the tenant holds, by its quota: what a create checks first. */
export async function slotsHeld(store: SubscriptionStore, tenantId: string): Promise<number> {
  const now = Date.now();
  return (await store.readSlots(tenantId)).slots.filter((s) => !isExpired(s, now)).length;
}

/**
 * Takes (or, for a subscription that already holds one, moves) the subscription's slot until its expiration. With
 * a limit, a new slot is taken only while fewer than `limit` are held; renewals pass no limit.
 */
export function claimSlot(
  store: SubscriptionStore,
  tenantId: string,
  slot: QuotaSlot,
  limit?: number,
): Promise<SlotOutcome> {
  return untilWritten<SlotOutcome>(store, tenantId, (live) => {
    const others = live.filter((s) => s.id !== slot.id);
    if (limit !== undefined && others.length === live.length && live.length >= limit) {
      return { result: { claimed: false, held: live.length } };
    }
    return { slots: [...others, slot], result: { claimed: true } };
  });
}

/** Frees a subscription's slot. */
export function releaseSlot(store: SubscriptionStore, tenantId: string, subscriptionId: string): Promise<void> {
  return untilWritten<void>(store, tenantId, (live) =>
    live.some((s) => s.id === subscriptionId)
      ? { slots: live.filter((s) => s.id !== subscriptionId), result: undefined }
      : { result: undefined },
  );
}
