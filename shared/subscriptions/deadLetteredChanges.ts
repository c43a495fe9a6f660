/**
 * The dead letter of change notifications: a change-feed batch whose delivery failed its last retry (the store
 * or the delivery queue down all that time) is written to the delivery queue's poison queue as the changes
 * themselves, since which subscriptions match, and so which notifications to send, can only be known once the store
 * answers again. Replayed into the delivery queue (`npm run replay-poison -- subscription-deliveries`), the retry
 * function delivers them as the change feed would have: the same notifications, with the same ids.
 */
import { namesAnOperation } from "../operations/model.js";
import { poisonQueueOf, sendMessages } from "../queues.js";

/** The fields of a changed document that delivery reads (what it is, whether deleted, when created and changed). */
const KEPT = [
  "id",
  "operationId",
  "teamId",
  "tenantId",
  "tombstone",
  "deletedDateTime",
  "createdDateTime",
  "lastActionDateTime",
  "_etag",
  "_ts",
] as const;

/** Changes per message: a queue message holds 64 KiB once Base64-encoded, and each change takes well under 400 bytes. */
const CHANGES_PER_MESSAGE = 100;

export interface DeadLetteredChanges {
  readonly kind: "changes";
  readonly documents: readonly Record<string, unknown>[];
  readonly reason: string;
  readonly deadLetteredAt: string;
}

/** The dead-letter messages for a batch: its changes, cut down to what delivery reads, in messages that fit. */
export function deadLetteredChanges(documents: readonly unknown[], reason: string, now = new Date()): string[] {
  const kept = documents
    .filter(namesAnOperation)
    .map((doc) => Object.fromEntries(KEPT.filter((key) => doc[key] !== undefined).map((key) => [key, doc[key]])));
  const messages: string[] = [];
  for (let i = 0; i < kept.length; i += CHANGES_PER_MESSAGE) {
    const message: DeadLetteredChanges = {
      kind: "changes",
      documents: kept.slice(i, i + CHANGES_PER_MESSAGE),
      reason: reason.slice(0, 1_000),
      deadLetteredAt: now.toISOString(),
    };
    messages.push(JSON.stringify(message));
  }
  return messages;
}

/** A delivery-queue message read back as dead-lettered changes; undefined when it is not one. */
export function parseDeadLetteredChanges(payload: unknown): DeadLetteredChanges | undefined {
  let value = payload;
  if (typeof payload === "string") {
    try {
      value = JSON.parse(payload) as unknown;
    } catch {
      return undefined;
    }
  }
  const candidate = value as Partial<DeadLetteredChanges> | null;
  if (typeof candidate !== "object" || candidate === null || candidate.kind !== "changes") return undefined;
  if (!Array.isArray(candidate.documents) || !candidate.documents.every(namesAnOperation)) return undefined;
  return candidate as DeadLetteredChanges;
}

/** Writes a batch's changes to the delivery queue's poison queue; resolves to that queue's name. */
export async function deadLetterChanges(deliveryQueue: string, documents: readonly unknown[], error: unknown) {
  const queue = poisonQueueOf(deliveryQueue);
  await sendMessages(queue, deadLetteredChanges(documents, String(error)));
  return queue;
}
