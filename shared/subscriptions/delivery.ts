/**
 * Delivery of change notifications. The change feed of the operations
 * container (not the code that wrote the change: no dual write) gives the
 * changed documents; each is matched with the live subscriptions of its
 * tenant and team, and the notifications are batched per notification URL
 * in Graph's payload (`{"value":[...]}`). Every batch is sent at once and
 * concurrently, each bounded by the delivery timeout, so a slow or failing
 * endpoint never holds up another. A batch that gets no 2xx goes to the
 * delivery queue, retried on the configured schedule (backoff), then dropped
 * with a `missed` lifecycle notification to the subscriptions that have a
 * lifecycle URL. Delivery is at least once: each notification has a stable
 * id (subscription, document and version) for receivers to drop repeats.
 */
import { createHash } from "node:crypto";
import {
  ENTITY_TYPE,
  isOperationDocument,
  namesAnOperation,
  revisionOf,
  type OperationDocument,
} from "../operations/model.js";
import type { AddressPolicy } from "./addressPolicy.js";
import type { EncryptedContent } from "./encryption.js";
import { isExpired, resourceKeyOf, type ChangeType, type SubscriptionDocument } from "./model.js";
import { resourceDataFor, validationTokensOf } from "./resourceData.js";
import type { SubscriptionStore } from "./store.js";
import type { TokenAudience, ValidationTokenIssuer } from "./validationTokens.js";
import { postToReceiver, WebhookFailure } from "./webhook.js";

export interface ChangeNotification {
  readonly id: string;
  readonly subscriptionId: string;
  readonly subscriptionExpirationDateTime: string;
  readonly changeType: ChangeType;
  readonly resource: string;
  readonly resourceData: { readonly "@odata.type": string; readonly "@odata.id": string; readonly id: string };
  readonly clientState: string | null;
  readonly tenantId: string;
  /** For a subscription with resource data: the operation, encrypted for its certificate. */
  readonly encryptedContent?: EncryptedContent;
}

export type LifecycleEvent = "missed" | "subscriptionRemoved" | "reauthorizationRequired";

/** Graph's lifecycle notification: about the subscription, not about a resource. */
export interface LifecycleNotification {
  readonly subscriptionId: string;
  readonly subscriptionExpirationDateTime: string;
  readonly tenantId: string;
  readonly clientState: string | null;
  readonly lifecycleEvent: LifecycleEvent;
}

export function lifecycleNotification(
  subscription: Pick<SubscriptionDocument, "id" | "expirationDateTime" | "tenantId" | "clientState">,
  lifecycleEvent: LifecycleEvent,
): LifecycleNotification {
  return {
    subscriptionId: subscription.id,
    subscriptionExpirationDateTime: subscription.expirationDateTime,
    tenantId: subscription.tenantId,
    clientState: subscription.clientState,
    lifecycleEvent,
  };
}

/** One POST's worth: the notifications for one URL, with where they came from for re-checks on retry. */
export interface DeliveryBatch {
  readonly notificationUrl: string;
  readonly resourceKey: string;
  readonly notifications: readonly ChangeNotification[];
  /** Retries made so far (0 on the first attempt). */
  readonly retries: number;
  readonly firstAttemptDateTime: string;
  /** Whom the validation tokens are for, by subscription id: the subscriptions with resource data. */
  readonly tokenAudiences?: Readonly<Record<string, TokenAudience>>;
}

export interface DeliveryQueue {
  /** Puts a batch on the delivery queue, visible after the delay. */
  send(batch: DeliveryBatch, delaySeconds: number): Promise<void>;
}

export interface DeliveryOptions {
  readonly store: SubscriptionStore;
  readonly queue: DeliveryQueue;
  readonly policy: AddressPolicy;
  readonly timeoutMs: number;
  readonly retryScheduleSeconds: readonly number[];
  readonly log: (message: string) => void;
  readonly now?: () => number;
  /** Signs the validation tokens of notifications with resource data; undefined: none can be sent. */
  readonly validationTokens?: ValidationTokenIssuer;
}

/** What every changed document names: the operation it is (or was). */
type ChangedDocument = Pick<OperationDocument, "id" | "operationId" | "teamId" | "tenantId">;

interface Change {
  readonly document: ChangedDocument;
  readonly changeType: ChangeType;
  readonly version: string;
}

/**
 * What a changed document is, from what the server owns. A tombstone is a deletion (a delete replaces the operation
 * with it, since the change feed carries no deletions). An operation at revision 1 has only been created; any later
 * write raised its revision. A document written before revisions existed is an update unless the store wrote it in
 * the second it was created.
 */
export function changesOf(documents: readonly unknown[]): Change[] {
  const changes: Change[] = [];
  for (const doc of documents) {
    if (!namesAnOperation(doc)) continue;
    if (doc.tombstone === true && typeof doc.deletedDateTime === "string") {
      changes.push({ document: doc, changeType: "deleted", version: String(doc._etag ?? doc.deletedDateTime) });
      continue;
    }
    if (!isOperationDocument(doc)) continue;
    const changeType: ChangeType = revisionOf(doc) === 1 ? "created" : "updated";
    changes.push({ document: doc, changeType, version: String(doc._etag ?? revisionOf(doc)) });
  }
  return changes;
}

export function operationResource(teamId: string, operationId: string): string {
  return `teams('${teamId}')/operations('${operationId.replace(/'/g, "''")}')`;
}

function notificationId(subscriptionId: string, change: Change): string {
  const hash = createHash("sha256").update(`${subscriptionId}|${change.document.id}|${change.version}`).digest("hex");
  return `${hash.slice(0, 8)}-${hash.slice(8, 12)}-${hash.slice(12, 16)}-${hash.slice(16, 20)}-${hash.slice(20, 32)}`;
}

export function matches(subscription: SubscriptionDocument, change: Change, now: number): boolean {
  return (
    !isExpired(subscription, now) &&
    subscription.tenantId === change.document.tenantId &&
    subscription.teamId === change.document.teamId &&
    (subscription.operationId === null || subscription.operationId === change.document.operationId) &&
    subscription.changeTypes.includes(change.changeType)
  );
}

/** The batches a set of changes makes: per resource key, the matching subscriptions' notifications, per URL. */
export async function batchesFor(
  documents: readonly unknown[],
  store: SubscriptionStore,
  now = Date.now(),
): Promise<DeliveryBatch[]> {
  const byKey = new Map<string, Change[]>();
  for (const change of changesOf(documents)) {
    const key = resourceKeyOf(change.document.tenantId, change.document.teamId);
    byKey.set(key, [...(byKey.get(key) ?? []), change]);
  }
  const batches: DeliveryBatch[] = [];
  const firstAttemptDateTime = new Date(now).toISOString();
  for (const [resourceKey, changes] of byKey) {
    const subscriptions = await store.forResourceKey(resourceKey);
    const byUrl = new Map<string, ChangeNotification[]>();
    const tokenAudiences = new Map<string, Record<string, TokenAudience>>();
    for (const change of changes) {
      for (const subscription of subscriptions) {
        if (!matches(subscription, change, now)) continue;
        const resource = operationResource(change.document.teamId, change.document.operationId);
        const list = byUrl.get(subscription.notificationUrl) ?? [];
        const rich = resourceDataFor(
          subscription,
          change.document as OperationDocument,
          change.changeType === "deleted",
        );
        if (rich) {
          const audiences = tokenAudiences.get(subscription.notificationUrl) ?? {};
          tokenAudiences.set(subscription.notificationUrl, { ...audiences, [subscription.id]: rich.audience });
        }
        list.push({
          id: notificationId(subscription.id, change),
          subscriptionId: subscription.id,
          subscriptionExpirationDateTime: subscription.expirationDateTime,
          changeType: change.changeType,
          resource,
          resourceData: { "@odata.type": ENTITY_TYPE, "@odata.id": resource, id: change.document.operationId },
          clientState: subscription.clientState,
          tenantId: subscription.tenantId,
          ...(rich?.encryptedContent ? { encryptedContent: rich.encryptedContent } : {}),
        });
        byUrl.set(subscription.notificationUrl, list);
      }
    }
    for (const [notificationUrl, notifications] of byUrl) {
      const audiences = tokenAudiences.get(notificationUrl);
      batches.push({
        notificationUrl,
        resourceKey,
        notifications,
        retries: 0,
        firstAttemptDateTime,
        ...(audiences ? { tokenAudiences: audiences } : {}),
      });
    }
  }
  return batches;
}

/** POSTs a payload (`{"value": [...]}`); undefined when acknowledged (a 2xx), else why not. */
export async function postNotifications(
  url: string,
  value: readonly unknown[],
  options: Pick<DeliveryOptions, "policy" | "timeoutMs">,
  validationTokens?: readonly string[],
): Promise<string | undefined> {
  try {
    const answer = await postToReceiver(url, {
      policy: options.policy,
      timeoutMs: options.timeoutMs,
      contentType: "application/json; charset=utf-8",
      body: JSON.stringify(validationTokens ? { value, validationTokens } : { value }),
    });
    if (answer.status >= 200 && answer.status < 300) return undefined;
    return answer.status >= 300 && answer.status < 400
      ? `it answered ${answer.status} (redirects are not followed)`
      : `it answered ${answer.status}`;
  } catch (error) {
    if (error instanceof WebhookFailure) return error.message;
    throw error;
  }
}

/** Sends `missed` to the lifecycle URL of each subscription whose notifications were dropped: one attempt each. */
async function reportMissed(batch: DeliveryBatch, options: DeliveryOptions): Promise<void> {
  const ids = [...new Set(batch.notifications.map((n) => n.subscriptionId))];
  await Promise.all(
    ids.map(async (id) => {
      const found = await options.store.read(batch.resourceKey, id);
      const url = found?.document.lifecycleNotificationUrl;
      if (!found || !url) return;
      const why = await postNotifications(url, [lifecycleNotification(found.document, "missed")], options);
      options.log(`subscription ${id}: missed notifications reported${why ? ` but not acknowledged: ${why}` : ""}`);
    }),
  );
}

/** One attempt at a batch: on failure, queued for the next retry, or, past the last, dropped and reported missed. */
export async function attemptBatch(
  batch: DeliveryBatch,
  options: DeliveryOptions,
): Promise<"delivered" | "queued" | "dropped"> {
  const why = await validationTokensOf(batch.notifications, batch.tokenAudiences, options.validationTokens).then(
    (tokens) => postNotifications(batch.notificationUrl, batch.notifications, options, tokens),
    (error: unknown) =>
      `its validation tokens could not be signed (${error instanceof Error ? error.message : String(error)})`,
  );
  if (why === undefined) return "delivered";
  const delay = options.retryScheduleSeconds[batch.retries];
  const target = `${batch.notifications.length} notifications for ${new URL(batch.notificationUrl).host}`;
  if (delay !== undefined) {
    options.log(`${target} not acknowledged (${why}); retry ${batch.retries + 1} in ${delay} s`);
    await options.queue.send({ ...batch, retries: batch.retries + 1 }, delay);
    return "queued";
  }
  options.log(`${target} not acknowledged (${why}) after ${batch.retries} retries: dropped`);
  await reportMissed(batch, options);
  return "dropped";
}

/** The first attempt for every batch of a change-feed batch, all at once. */
export async function deliverChanges(documents: readonly unknown[], options: DeliveryOptions) {
  const batches = await batchesFor(documents, options.store, options.now?.() ?? Date.now());
  const outcomes = await Promise.all(batches.map((batch) => attemptBatch(batch, options)));
  return { batches: batches.length, outcomes };
}

/** A retry from the delivery queue: only notifications whose subscription still lives are sent. */
export async function retryBatch(batch: DeliveryBatch, options: DeliveryOptions) {
  const ids = [...new Set(batch.notifications.map((n) => n.subscriptionId))];
  const live = new Set<string>();
  for (const id of ids) if (await options.store.read(batch.resourceKey, id)) live.add(id);
  const notifications = batch.notifications.filter((n) => live.has(n.subscriptionId));
  if (notifications.length === 0) return "gone" as const;
  return attemptBatch({ ...batch, notifications }, options);
}

/** A delivery-queue message read back; undefined when it is not one. */
export function parseDeliveryBatch(payload: unknown): DeliveryBatch | undefined {
  const value = typeof payload === "string" ? (JSON.parse(payload) as unknown) : payload;
  const batch = value as Partial<DeliveryBatch> | null;
  if (
    typeof batch !== "object" ||
    batch === null ||
    typeof batch.notificationUrl !== "string" ||
    typeof batch.resourceKey !== "string" ||
    !Array.isArray(batch.notifications) ||
    typeof batch.retries !== "number" ||
    typeof batch.firstAttemptDateTime !== "string"
  ) {
    return undefined;
  }
  return batch as DeliveryBatch;
}
