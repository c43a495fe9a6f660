/**
 * Replaying a poison queue into its queue, once the cause is fixed (`npm run replay-poison -- <queue>`): every
 * message of `<queue>-poison` is put back on `<queue>` and then deleted from the poison queue, so a crash in between
 * replays it twice, never loses it (what the queues carry is idempotent: inbox messages, completion events and
 * notifications all have stable ids).
 *
 * What goes back is what the queue's function reads. A poison record the inbox wrote (poison.ts) is unwrapped to
 * the original message; a create keeps the id of the message it first came as (`messageId`), so it creates the
 * operation the first attempt would have, and nothing twice. Anything else (the host's copy of a message, completion
 * events, notification batches, dead-lettered changes) goes back as it is. A record that kept only the start of
 * its message, or none of it, cannot be replayed: it stays in the poison queue and is reported.
 */
import type { QueueClient } from "@azure/storage-queue";

export type Replay = { readonly bytes: Buffer } | { readonly skip: string };

interface PoisonRecordShape {
  readonly reason: { readonly code: string };
  readonly messageId?: unknown;
  readonly poisonedAt: string;
  readonly message?: unknown;
  readonly messageBase64?: string;
  readonly messageTruncated?: boolean;
  readonly messageUnavailable?: string;
}

function isPoisonRecord(value: unknown): value is PoisonRecordShape {
  const record = value as Partial<PoisonRecordShape> | null;
  return (
    typeof record === "object" &&
    record !== null &&
    typeof record.reason?.code === "string" &&
    typeof record.poisonedAt === "string" &&
    ("message" in record || "messageBase64" in record || "messageUnavailable" in record || "messageTruncated" in record)
  );
}

/** What to send back to the queue for the text of one poison message. */
export function replayOf(text: string): Replay {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { bytes: Buffer.from(text, "utf8") };
  }
  if (!isPoisonRecord(value)) return { bytes: Buffer.from(text, "utf8") };
  if (value.messageTruncated === true) {
    return { skip: `its record kept only the start of the message (${value.reason.code}); send it again whole` };
  }
  if (value.messageUnavailable !== undefined) return { skip: `its record has no message (${value.reason.code})` };
  if (typeof value.messageBase64 === "string") return { bytes: Buffer.from(value.messageBase64, "base64") };
  const message = value.message;
  if (typeof message === "string") return { bytes: Buffer.from(message, "utf8") };
  const envelope = typeof message === "object" && message !== null ? (message as Record<string, unknown>) : undefined;
  const replayed =
    envelope?.action === "create" && typeof value.messageId === "string" && envelope.messageId === undefined
      ? { ...envelope, messageId: value.messageId }
      : message;
  return { bytes: Buffer.from(JSON.stringify(replayed), "utf8") };
}

/** A queue message's text as its function reads it: Base64 decoded, or as it is when it is not Base64. */
function decoded(messageText: string): string {
  const bytes = Buffer.from(messageText, "base64");
  const isBase64 = bytes.toString("base64").replace(/=+$/, "") === messageText.replace(/=+$/, "");
  return isBase64 ? bytes.toString("utf8") : messageText;
}

export interface ReplayResult {
  readonly replayed: number;
  /** Messages left in the poison queue, with why. */
  readonly skipped: readonly { readonly messageId: string; readonly why: string }[];
}

/** Seconds a message being replayed stays invisible to anyone else reading the poison queue. */
const REPLAY_VISIBILITY_SECONDS = 300;

/**
 * Moves every message of `poison` to `target` (at most `max`), deleting each from `poison` once it is sent.
 * @public (scripts/replay-poison.js loads it from the build, where knip does not follow)
 */
export async function replayPoisonQueue(
  poison: QueueClient,
  target: QueueClient,
  options: { max?: number; log?: (line: string) => void } = {},
): Promise<ReplayResult> {
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const skipped: { messageId: string; why: string }[] = [];
  const seen = new Set<string>();
  let replayed = 0;
  while (replayed < max) {
    const { receivedMessageItems } = await poison.receiveMessages({
      numberOfMessages: Math.min(32, Math.max(1, max - replayed)),
      visibilityTimeout: REPLAY_VISIBILITY_SECONDS,
    });
    const fresh = receivedMessageItems.filter((m) => !seen.has(m.messageId));
    if (fresh.length === 0) break;
    for (const message of fresh) {
      seen.add(message.messageId);
      const replay = replayOf(decoded(message.messageText));
      if ("skip" in replay) {
        skipped.push({ messageId: message.messageId, why: replay.skip });
        options.log?.(`left ${message.messageId} in ${poison.name}: ${replay.skip}`);
        continue;
      }
      await target.sendMessage(replay.bytes.toString("base64"));
      await poison.deleteMessage(message.messageId, message.popReceipt);
      replayed++;
      if (replayed >= max) break;
    }
  }
  return { replayed, skipped };
}
