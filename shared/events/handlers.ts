/**
 * The queue, timer and change-feed function handlers: each reads its
 * trigger, runs the shared logic, and logs what happened through the
 * invocation context, in a telemetry scope. The change-feed consumer of
 * completion events runs under changeFeed.ts, which retries and dead-letters.
 */
import type { FunctionOutput, InvocationContext, Timer } from "@azure/functions";
import { config, type AppConfig } from "../config.js";
import { poisonQueueOf, queuesConfigured, sendMessages } from "../queues.js";
import { operationStore } from "../store/operations.js";
import { describeError, trackException, trackMessagePoisoned, withTelemetryScope } from "../telemetry.js";
import { queuesOf, reportBacklog } from "./backlog.js";
import type { ChangeFeedConsumer } from "./changeFeed.js";
import { completionEvents } from "./completion.js";
import { parseInboxMessage, PoisonMessage, processInboxMessage, retriesExhausted } from "./inbox.js";
import { poisonRecord } from "./poison.js";
import { queueRetry } from "./queueRetry.js";
import { sweepStaleOperations } from "./sweeper.js";

/** Handles one `operations-inbox` message; a message that can never succeed goes to `poison` with its reason. */
export function inboxHandler(poison: FunctionOutput) {
  return async (payload: unknown, context: InvocationContext): Promise<void> => {
    const id = context.triggerMetadata?.id;
    const messageId = typeof id === "string" ? id : context.invocationId;
    const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
    const scope = {
      requestId: context.invocationId,
      trigger: "queue" as const,
      teamId: undefined as string | undefined,
    };
    await withTelemetryScope(scope, async () => {
      try {
        const message = parseInboxMessage(payload);
        scope.teamId = message.teamId.toLowerCase();
        const cfg = config();
        const store = await operationStore(cfg.cosmos);
        const outcome = await processInboxMessage(message, {
          store,
          ttlSeconds: cfg.operationTtlSeconds,
          messageId,
          queueName: cfg.inboxQueue,
          tenants: cfg.auth.tenants,
        });
        context.info(
          `${outcome.action} ${outcome.operationId} in team ${outcome.teamId}: ${outcome.changed ? "applied" : "already applied"}`,
        );
      } catch (error) {
        let poisoned: PoisonMessage;
        if (error instanceof PoisonMessage) {
          poisoned = error;
        } else if (dequeueCount < queueRetry().maxDequeueCount) {
          // Transient (store throttled or down): throw, so the host retries it after its visibility timeout.
          context.warn(
            `message ${messageId} failed (attempt ${dequeueCount}), will be retried: ${describeError(error)}`,
          );
          trackException(error);
          throw error;
        } else {
          // Its last attempt: poisoned here rather than by the host, so the record keeps the message's id (a replay
          // creates what it would have created, and nothing twice) and says why.
          context.warn(`message ${messageId} failed its last attempt (${dequeueCount}): ${describeError(error)}`);
          trackException(error);
          poisoned = retriesExhausted(error, dequeueCount);
        }
        const targets = poisoned.details.map((d) => d.target).filter(Boolean);
        context.warn(
          `message ${messageId} poisoned: ${poisoned.code}: ${poisoned.message}${targets.length ? ` (${targets.join(", ")})` : ""}`,
        );
        trackMessagePoisoned(config().inboxQueue, poisoned.code);
        // As bytes: the host writes a string that looks like JSON as Json.NET's indented text of it, which can be
        // many times longer than the record (and past what a queue message holds); bytes it writes as they are.
        context.extraOutputs.set(
          poison,
          Buffer.from(poisonRecord(poisoned, payload, { messageId, dequeueCount }), "utf8"),
        );
      }
    });
  };
}

/** Marks operations stuck past the deadline as failed, then reports the depth of every queue. */
export async function sweeperHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  await withTelemetryScope({ requestId: context.invocationId, trigger: "timer" }, async () => {
    const cfg = config();
    try {
      const store = await operationStore(cfg.cosmos);
      const result = await sweepStaleOperations(store, { ...cfg.sweeper, ttlSeconds: cfg.operationTtlSeconds });
      context.info(
        `sweeper: examined ${result.examined}, failed ${result.failed.length} (operationTimedOut), skipped ${result.skipped}`,
      );
    } finally {
      // Measured whatever became of the sweep: a store outage is when a backlog builds.
      if (queuesConfigured()) await measureBacklog(cfg, context);
    }
  });
}

/** Reports the depth of the app's queues and their poison queues; a queue that cannot be measured is logged. */
async function measureBacklog(cfg: AppConfig, context: InvocationContext): Promise<void> {
  const backlog = await reportBacklog(
    queuesOf({ inbox: cfg.inboxQueue, events: cfg.eventsQueue, deliveries: cfg.subscriptions.deliveryQueue }),
  );
  const failed = Object.entries(backlog.failures);
  if (failed.length > 0) {
    context.warn(`queue depth not measured: ${failed.map(([queue, why]) => `${queue}: ${why}`).join("; ")}`);
  }
}

/**
 * Completion events from a change-feed batch, sent to the events queue with the storage SDK (not an output binding,
 * whose failure the function could not see): a batch whose events cannot be sent is retried, and after its last
 * retry its events go to the events queue's poison queue (changeFeed.ts).
 */
export const completionEventsConsumer: ChangeFeedConsumer = {
  name: "publishCompletionEvents",
  async handle(documents, context) {
    const events = completionEvents(documents).map((event) => JSON.stringify(event));
    await sendMessages(config().eventsQueue, events);
    context.info(`change feed: ${documents.length} changed, ${events.length} completion events`);
  },
  async deadLetter(documents) {
    const queue = poisonQueueOf(config().eventsQueue);
    await sendMessages(
      queue,
      completionEvents(documents).map((event) => JSON.stringify(event)),
    );
    return queue;
  },
};
