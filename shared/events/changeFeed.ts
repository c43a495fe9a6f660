/**
 * What the two change-feed functions (completion events, change notifications) do with a batch that fails: the
 * host retries it on a bounded policy (CHANGE_FEED_RETRY, long enough to ride out a store or queue outage of
 * 15 minutes); the last retry that still fails writes the batch to a poison queue (a dead letter, which
 * `npm run replay-poison` replays after the fix) instead of letting the host move past it; and when even that
 * write fails, the loss is reported (ChangeFeedBatchLost, an exception naming the documents) rather than silent.
 * Never an endless stall: the lease moves on after the last retry, whatever became of the batch.
 *
 * Every attempt also reports how old the oldest change in the batch is (ChangeFeedLagSeconds), so a batch being
 * retried, or a function falling behind, shows as a growing lag.
 */
import type { InvocationContext } from "@azure/functions";
import {
  describeError,
  TELEMETRY,
  trackChangeFeedDeadLettered,
  trackChangeFeedLag,
  trackException,
  withTelemetryScope,
} from "../telemetry.js";

/**
 * Twelve retries, 90 seconds apart: the last one comes 18 minutes after the first failure. A fixed delay, so the
 * window is what it says (an exponential one is randomised by the host).
 */
export const CHANGE_FEED_RETRY = {
  strategy: "fixedDelay",
  maxRetryCount: 12,
  delayInterval: { seconds: 90 },
} as const;

/** A batch that failed its last retry and could not be dead-lettered: its effects are lost. */
export class ChangeFeedBatchLost extends Error {
  override readonly name = TELEMETRY.changeFeedBatchLost;
}

export interface ChangeFeedConsumer {
  /** The function's name, as metrics and logs name it. */
  readonly name: string;
  /** Processes the batch; throws when it should be retried. */
  handle(documents: unknown[], context: InvocationContext): Promise<void>;
  /** Writes what the batch would have produced (or the changes themselves) to a poison queue; names that queue. */
  deadLetter(documents: unknown[], error: unknown): Promise<string>;
}

/** Whether this invocation is the retry policy's last: the host will not run the batch again. */
export function isLastAttempt(context: InvocationContext): boolean {
  const retry = context.retryContext;
  return retry !== undefined && retry.maxRetryCount >= 0 && retry.retryCount >= retry.maxRetryCount;
}

/** Seconds since the oldest change of the batch was written (its `_ts`), or undefined when none carries one. */
export function lagSeconds(documents: readonly unknown[], now = Date.now()): number | undefined {
  const written = documents
    .map((doc) => (doc as { _ts?: unknown } | null)?._ts)
    .filter((ts): ts is number => typeof ts === "number");
  if (written.length === 0) return undefined;
  return Math.max(0, now / 1000 - Math.min(...written));
}

/** The ids of a batch's documents, for a report of what was lost. */
const idsOf = (documents: readonly unknown[]) =>
  documents
    .map((doc) => (doc as { id?: unknown } | null)?.id)
    .map((id) => (typeof id === "string" ? id : "?"))
    .join(", ");

/** The handler of a change-feed function: the consumer's, with lag reporting, retries and the dead letter. */
export function changeFeedHandler(consumer: ChangeFeedConsumer) {
  return (documents: unknown[], context: InvocationContext): Promise<void> =>
    withTelemetryScope({ requestId: context.invocationId, trigger: "changeFeed" }, async () => {
      const lag = lagSeconds(documents);
      if (lag !== undefined) trackChangeFeedLag(consumer.name, lag);
      try {
        await consumer.handle(documents, context);
      } catch (error) {
        trackException(error);
        const retry = context.retryContext;
        if (!isLastAttempt(context)) {
          const attempt = retry ? `retry ${retry.retryCount} of ${retry.maxRetryCount}` : "first attempt";
          context.warn(
            `${consumer.name}: a batch of ${documents.length} changes failed (${attempt}): ${String(error)}`,
          );
          throw error;
        }
        let queue: string;
        try {
          queue = await consumer.deadLetter(documents, error);
        } catch (deadLetterError) {
          const lost = new ChangeFeedBatchLost(
            `${consumer.name}: a batch of ${documents.length} changes failed its last retry and could not be written to ` +
              `its poison queue (${String(deadLetterError)}); its effects are lost. Documents: ${idsOf(documents)}`,
            { cause: error },
          );
          context.error(lost.message);
          trackException(lost);
          throw lost;
        }
        trackChangeFeedDeadLettered(consumer.name, documents.length, queue);
        context.error(
          `${consumer.name}: a batch of ${documents.length} changes failed its last retry and was written to ${queue}: ${describeError(error)}`,
        );
      }
    });
}
