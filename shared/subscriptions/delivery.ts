/**
 * Delivery of change notifications. The change feed of the operations
 * container (not the code that wrote the change: no dual write) gives the
 * changed documents; each is matched with the live subscriptions of its
 * tenant and team, and the notifications are batched per notification URL
 * in Graph's payload (`{"value":[...]}`).
 *
 * Each receiver is isolated from the others (receiverSchedule.ts): a
 * change-feed batch gets one first attempt per receiver, all at once, each
 * with a short deadline (FIRST_ATTEMPT_TIMEOUT_MS), and is handed on as soon
 * as every batch is acknowledged or queued: a batch not acknowledged in time,
 * or for a receiver that is busy or resting after a failure, goes to the
 * delivery queue at once. Retries from the queue run side by side (the queue
 * trigger's concurrency), one attempt per receiver at a time, each allowed
 * the full delivery timeout, on the configured schedule (backoff); after the
 * last, the batch is dropped with a `missed` lifecycle notification to the
 * subscriptions that have a lifecycle URL. Delivery is at least once: each
 * notification has an id derived from the subscription and the change (the
 * same on every delivery of that change, across restarts: see `changesOf`) for
 * receivers to drop repeats. Notifications of a subscription whose tenant is
 * no longer accepted (AUTH_TENANTS) are dropped at once, first attempt or
 * retry, before the lifecycle run removes the subscription.
 */
import {
  ENTITY_TYPE,
  isOperationDocument,
  namesAnOperation,
  revisionOf,
  type OperationDocument,
} from "../operations/model.js";
import { derivedGuid } from "../operations/rules.js";
import type { AddressPolicy } from "./addressPolicy.js";
import type { EncryptedContent } from "./encryption.js";
import { expirationOf, isExpired, resourceKeyOf, type ChangeType, type SubscriptionDocument } from "./model.js";
import { receiverSchedule, waitingBatches, type ReceiverSchedule, type WaitingBatches } from "./receiverSchedule.js";
import { resourceDataFor, validationTokensOf } from "./resourceData.js";
import type { SubscriptionStore } from "../store/subscriptions.js";
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
  /** How long a retry waits for a receiver's answer (a first attempt waits at most FIRST_ATTEMPT_TIMEOUT_MS). */
  readonly timeoutMs: number;
  readonly retryScheduleSeconds: readonly number[];
  readonly log: (message: string) => void;
  readonly now?: () => number;
  /** When each receiver may be tried next; this instance's by default. */
  readonly receivers?: ReceiverSchedule;
  /** The batches waiting for their receiver; this instance's by default. */
  readonly waiting?: WaitingBatches;
  /** The tenants whose subscriptions are served (AUTH_TENANTS); `*`, the default: any. */
  readonly tenants?: readonly string[] | "*";
  /** Signs the validation tokens of notifications with resource data; undefined: none can be sent. */
  readonly validationTokens?: ValidationTokenIssuer;
}

const accepted = (tenants: readonly string[] | "*" | undefined, tenantId: string) =>
  tenants === undefined || tenants === "*" || tenants.includes(tenantId.toLowerCase());

/**
 * How long the first attempt at a batch waits for its receiver's answer before the batch goes to the retry queue:
 * the change feed hands its batch on only once every first attempt has ended. Graph asks a receiver to answer at
 * once (a 202) and do its work afterwards; one that needs longer gets the batch from the queue, with the full timeout.
 */
export const FIRST_ATTEMPT_TIMEOUT_MS = 1_000;

/** What every changed document names: the operation it is (or was). */
type ChangedDocument = Pick<OperationDocument, "id" | "operationId" | "teamId" | "tenantId">;

interface Change {
  readonly document: ChangedDocument;
  readonly changeType: ChangeType;
  /** What tells this change from any other of the same operation, from what the server owns. */
  readonly identity: readonly string[];
}

/**
 * What a changed document is, from what the server owns. A tombstone is a deletion (a delete replaces the operation
 * with it, since the change feed carries no deletions). An operation at revision 1 has only been created; any later
 * write raised its revision. A document written before revisions existed is an update unless the store wrote it in
 * the second it was created.
 *
 * A change is known by its operation's creation time and revision (an operation deleted and created again under its
 * id starts again at revision 1, at another time), or by its deletion time: never by the store's `_etag` or `_ts`,
 * which a restored local store gives anew. Only a document written before revisions existed falls back on `_etag`.
 */
export function changesOf(documents: readonly unknown[]): Change[] {
  const changes: Change[] = [];
  for (const doc of documents) {
    if (!namesAnOperation(doc)) continue;
    if (doc.tombstone === true && typeof doc.deletedDateTime === "string") {
      changes.push({ document: doc, changeType: "deleted", identity: [doc.deletedDateTime] });
      continue;
    }
    if (!isOperationDocument(doc)) continue;
    const revision = revisionOf(doc);
    const changeType: ChangeType = revision === 1 ? "created" : "updated";
    const before = typeof doc.revision === "number" ? [] : [String(doc._etag ?? doc._ts ?? "")];
    changes.push({ document: doc, changeType, identity: [doc.createdDateTime, String(revision), ...before] });
  }
  return changes;
}

export function operationResource(teamId: string, operationId: string): string {
  return `teams('${teamId}')/operations('${operationId.replace(/'/g, "''")}')`;
}

/** A notification's id: the same for every delivery of one change to one subscription, across restarts. */
function notificationId(subscriptionId: string, change: Change): string {
  const { document } = change;
  return derivedGuid(
    subscriptionId,
    document.tenantId,
    document.teamId,
    document.operationId,
    change.changeType,
    ...change.identity,
  );
}

export function matches(
  subscription: SubscriptionDocument,
  change: Change,
  now: number,
  tenants?: readonly string[] | "*",
): boolean {
  return (
    !isExpired(subscription, now) &&
    accepted(tenants, subscription.tenantId) &&
    subscription.tenantId === change.document.tenantId &&
    subscription.teamId === change.document.teamId &&
    (subscription.operationId === null || subscription.operationId === change.document.operationId) &&
    subscription.changeTypes.includes(change.changeType)
  );
}

/**
 * The batches a set of changes makes: per resource key, the matching subscriptions' notifications (of accepted
 * tenants), per URL.
 */
export async function batchesFor(
  documents: readonly unknown[],
  store: SubscriptionStore,
  now = Date.now(),
  tenants: readonly string[] | "*" = "*",
): Promise<DeliveryBatch[]> {
  const byKey = new Map<string, Change[]>();
  for (const change of changesOf(documents)) {
    const key = resourceKeyOf(change.document.tenantId, change.document.teamId);
    byKey.set(key, [...(byKey.get(key) ?? []), change]);
  }
  const batches: DeliveryBatch[] = [];
  const firstAttemptDateTime = new Date(now).toISOString();
  // Every team's subscriptions at once: one query each, none waiting for another.
  const keys = [...byKey.keys()];
  const found = await Promise.all(keys.map((key) => store.forResourceKey(key)));
  for (const [k, resourceKey] of keys.entries()) {
    const changes = byKey.get(resourceKey)!;
    const subscriptions = found[k]!;
    const byUrl = new Map<string, ChangeNotification[]>();
    const tokenAudiences = new Map<string, Record<string, TokenAudience>>();
    for (const change of changes) {
      for (const subscription of subscriptions) {
        if (!matches(subscription, change, now, tenants)) continue;
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
          subscriptionExpirationDateTime: expirationOf(subscription),
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

type Outcome = "delivered" | "queued" | "dropped";

const secondsFrom = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
const describe = (batch: DeliveryBatch) =>
  `${batch.notifications.length} notifications for ${new URL(batch.notificationUrl).host}`;

/**
 * One attempt at a batch, within `timeoutMs`: on failure, queued for the next retry (and the receiver rests until
 * it is due), or, past the last, dropped and reported missed.
 */
async function attemptBatch(
  batch: DeliveryBatch,
  options: DeliveryOptions,
  timeoutMs = options.timeoutMs,
): Promise<Outcome> {
  const receivers = options.receivers ?? receiverSchedule;
  const url = batch.notificationUrl;
  const why = await validationTokensOf(batch.notifications, batch.tokenAudiences, options.validationTokens).then(
    (tokens) => postNotifications(url, batch.notifications, { policy: options.policy, timeoutMs }, tokens),
    (error: unknown) =>
      `its validation tokens could not be signed (${error instanceof Error ? error.message : String(error)})`,
  );
  if (why === undefined) {
    receivers.end(url, { acknowledged: true });
    return "delivered";
  }
  const delay = options.retryScheduleSeconds[batch.retries];
  receivers.end(url, { acknowledged: false, restMs: (delay ?? 0) * 1000 });
  if (delay !== undefined) {
    options.log(`${describe(batch)} not acknowledged (${why}); retry ${batch.retries + 1} in ${delay} s`);
    await options.queue.send({ ...batch, retries: batch.retries + 1 }, delay);
    return "queued";
  }
  options.log(`${describe(batch)} not acknowledged (${why}) after ${batch.retries} retries: dropped`);
  await reportMissed(batch, options);
  return "dropped";
}

/**
 * An attempt when the receiver may be tried now; otherwise the batch goes to the queue, due when it may (not an
 * attempt: its retries do not count it). Batches from the queue that find their receiver busy or resting are
 * gathered with the others waiting for it and go back as one.
 */
async function attemptOrQueue(
  batch: DeliveryBatch,
  options: DeliveryOptions,
  attempt: "first" | "retry",
): Promise<Outcome | "deferred"> {
  const receivers = options.receivers ?? receiverSchedule;
  const url = batch.notificationUrl;
  const timeoutMs = attempt === "first" ? Math.min(options.timeoutMs, FIRST_ATTEMPT_TIMEOUT_MS) : options.timeoutMs;
  const now = Date.now();
  if (receivers.begin(url, attempt, now + timeoutMs, now)) return attemptBatch(batch, options, timeoutMs);
  const send = (waiting: DeliveryBatch) => options.queue.send(waiting, secondsFrom(receivers.waitMs(url, attempt)));
  if (attempt === "first") await send(batch);
  else await (options.waiting ?? waitingBatches).wait(batch, send);
  return "deferred";
}

/** The first attempt for every batch of a change-feed batch, all at once; whatever is not acknowledged is queued. */
export async function deliverChanges(documents: readonly unknown[], options: DeliveryOptions) {
  const batches = await batchesFor(documents, options.store, options.now?.() ?? Date.now(), options.tenants);
  const outcomes = await Promise.all(
    batches.map(async (batch) => {
      const outcome = await attemptOrQueue(batch, options, "first");
      return outcome === "deferred" ? "queued" : outcome;
    }),
  );
  return { batches: batches.length, outcomes };
}

/**
 * A batch from the delivery queue: only notifications whose subscription still lives are sent, with the full
 * timeout, when the receiver may be tried (else it goes back to the queue until it may).
 */
export async function retryBatch(batch: DeliveryBatch, options: DeliveryOptions) {
  const ids = [...new Set(batch.notifications.map((n) => n.subscriptionId))];
  const live = new Set<string>();
  for (const id of ids) if (await options.store.read(batch.resourceKey, id)) live.add(id);
  // A tenant no longer accepted gets nothing more, whether or not the lifecycle run has removed its subscriptions.
  const notifications = batch.notifications.filter(
    (n) => live.has(n.subscriptionId) && accepted(options.tenants, n.tenantId),
  );
  if (notifications.length === 0) return "gone" as const;
  return attemptOrQueue({ ...batch, notifications }, options, "retry");
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
