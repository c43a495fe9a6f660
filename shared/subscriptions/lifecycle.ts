/**
 * Lifecycle notifications other than `missed` (delivery.ts), as Graph defines them, to a subscription's
 * `lifecycleNotificationUrl`:
 * - `reauthorizationRequired` before a subscription expires (Graph sends it when "a subscription is about to
 *   expire", among other reasons): once the expiration is within the notice, each lifecycle run sends it until it is
 *   acknowledged or answered; a renewal, which moves the expiration, asks again before the new one. The answers are
 *   Graph's: a renewal (PATCH), or `reauthorize`, which re-checks the caller's access without a new expiration and
 *   settles the challenge for the current one (`settleReauthorization`).
 * - `subscriptionRemoved` when the service removes a subscription its owner did not delete: its tenant is no longer
 *   accepted (AUTH_TENANTS), or a renewal showed that its delegated creator is no longer a member of the team. The
 *   subscription is gone first (no notification is delivered for it after), then the lifecycle URL is told, once.
 * Expiry removes nothing that was not announced: an expired subscription simply ends, as in Graph.
 */
import { utcNow } from "../operations/timestamps.js";
import { lifecycleNotification, postNotifications, type DeliveryOptions } from "./delivery.js";
import { ttlUntil, type SubscriptionDocument } from "./model.js";
import { releaseSlot } from "./quota.js";
import type { StoredSubscription } from "../store/subscriptions.js";

export type LifecycleOptions = Pick<DeliveryOptions, "store" | "policy" | "timeoutMs" | "log"> & {
  /** How long before its expiration a subscription is sent reauthorizationRequired. */
  readonly reauthorizationNoticeMinutes: number;
  /** The tenants whose subscriptions are kept; `*`: any. */
  readonly tenants: readonly string[] | "*";
  readonly now?: () => number;
};

export interface LifecycleRun {
  /** Subscriptions whose reauthorizationRequired was acknowledged in this run. */
  readonly reauthorizationRequired: string[];
  /** Subscriptions removed in this run. */
  readonly removed: string[];
}

/**
 * Removes a subscription its owner did not delete, frees its quota slot and, when it has a lifecycle URL, sends
 * `subscriptionRemoved` there (one attempt). False when it was gone already.
 */
export async function removeSubscription(
  subscription: SubscriptionDocument,
  why: string,
  options: Pick<LifecycleOptions, "store" | "policy" | "timeoutMs" | "log">,
): Promise<boolean> {
  if (!(await options.store.delete(subscription))) return false;
  // A slot whose release fails lapses at the subscription's expiration.
  await releaseSlot(options.store, subscription.tenantId, subscription.id).catch(() => undefined);
  const url = subscription.lifecycleNotificationUrl;
  const failure = url
    ? await postNotifications(url, [lifecycleNotification(subscription, "subscriptionRemoved")], options)
    : undefined;
  options.log(
    `subscription ${subscription.id} removed (${why})${url ? (failure ? `; subscriptionRemoved not acknowledged: ${failure}` : "; subscriptionRemoved sent") : ""}`,
  );
  return true;
}

async function askReauthorization({ document, etag }: StoredSubscription, options: LifecycleOptions) {
  if (document.reauthorizationNotifiedFor === document.expirationDateTime || !document.lifecycleNotificationUrl) {
    return false;
  }
  const url = document.lifecycleNotificationUrl;
  const failure = await postNotifications(url, [lifecycleNotification(document, "reauthorizationRequired")], options);
  if (failure) {
    options.log(
      `subscription ${document.id}: reauthorizationRequired not acknowledged (${failure}); asked again later`,
    );
    return false;
  }
  // Remembered for this expiration; a renewal or deletion that got in first wins (and a renewal asks again). The TTL
  // counts from this write: it is set anew to end at the expiration.
  const remembered = {
    ...document,
    reauthorizationNotifiedFor: document.expirationDateTime,
    ttl: ttlUntil(document.expirationDateTime),
  };
  await options.store.replace(remembered, etag).catch(() => undefined);
  return true;
}

/**
 * The subscription with the reauthorizationRequired of its current expiration settled, when one is pending (due,
 * within the notice, and neither acknowledged nor answered yet); undefined when there is none to settle.
 */
export function settleReauthorization(
  document: SubscriptionDocument,
  reauthorizationNoticeMinutes: number,
  now = Date.now(),
): SubscriptionDocument | undefined {
  const due = Date.parse(document.expirationDateTime) - now <= reauthorizationNoticeMinutes * 60_000;
  const settled = document.reauthorizationNotifiedFor === document.expirationDateTime;
  if (!due || settled || !document.lifecycleNotificationUrl) return undefined;
  return {
    ...document,
    reauthorizationNotifiedFor: document.expirationDateTime,
    ttl: ttlUntil(document.expirationDateTime, now),
  };
}

/** One lifecycle run: removals for tenants no longer accepted, then reauthorizationRequired where it is due. */
export async function runSubscriptionLifecycle(options: LifecycleOptions): Promise<LifecycleRun> {
  const now = options.now?.() ?? Date.now();
  const removed: string[] = [];
  if (options.tenants !== "*") {
    const orphans = await options.store.ofTenantsOtherThan(options.tenants);
    await Promise.all(
      orphans.map(async ({ document }) => {
        if (await removeSubscription(document, "its tenant is no longer accepted", options)) removed.push(document.id);
      }),
    );
  }
  const until = utcNow(new Date(now + options.reauthorizationNoticeMinutes * 60_000));
  const expiring = (await options.store.expiringBy(until)).filter((s) => !removed.includes(s.document.id));
  // All at once: a slow lifecycle URL holds up no other.
  const asked = await Promise.all(expiring.map((s) => askReauthorization(s, options)));
  return { reauthorizationRequired: expiring.filter((_, i) => asked[i]).map((s) => s.document.id), removed };
}
