/**
 * The dead letter of change notifications: a change-feed batch whose delivery failed its last retry (the store
 * or the delivery queue down all that time) is written to the delivery queue's poison queue as the changes
 * themselves, since which subscriptions match, and so which notifications to send, can only be known once the store
 * answers again. Replayed into the delivery queue (`npm run replay-poison -- subscription-deliveries`), the retry
 * function delivers them as the change feed would have: the same notifications, with the same ids.
 */
import { namesAnOperation } from "../operations/model.js";
import { poisonQueueOf, sendMessages } from "../queues.js";
import { MAX_MESSAGE_BYTES } from "./deliveryQueue.js";

/**
 * Cosmos DB's own fields, which delivery never reads (`_etag` and `_ts` are kept: a document written before revisions
 * existed is known by them).
 */
const DROPPED = new Set(["_rid", "_self", "_attachments", "_lsn"]);

export interface DeadLetteredChanges {
  readonly kind: "changes";
  readonly documents: readonly Record<string, unknown>[];
  readonly reason: string;
  readonly deadLetteredAt: string;
}

/**
 * The dead-letter messages for a batch: its changed documents as they were (delivery needs the whole operation: to
 * know the change, and for the resource data of rich notifications), in as few messages as fit in a queue message.
 */
export function deadLetteredChanges(documents: readonly unknown[], reason: string, now = new Date()): string[] {
  const kept = documents
    .filter(namesAnOperation)
    .map((doc) => Object.fromEntries(Object.entries(doc).filter(([key]) => !DROPPED.has(key))));
  const message = (part: Record<string, unknown>[]) =>
    JSON.stringify({
      kind: "changes",
      documents: part,
      reason: reason.slice(0, 1_000),
      deadLetteredAt: now.toISOString(),
    } satisfies DeadLetteredChanges);
  const messages: string[] = [];
  let part: Record<string, unknown>[] = [];
  for (const doc of kept) {
    // An operation document is at most a few KB (its properties are bounded), so each fits a message of its own.
    if (part.length > 0 && Buffer.byteLength(message([...part, doc])) > MAX_MESSAGE_BYTES) {
      messages.push(message(part));
      part = [];
    }
    part.push(doc);
  }
  if (part.length > 0) messages.push(message(part));
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
