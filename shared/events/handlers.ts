/**
 * The queue, timer and change-feed function handlers: each reads its
 * trigger, runs the shared logic, and logs what happened through the
 * invocation context. The inbox and the sweeper run in a telemetry scope (they
 * call the store); the change-feed handler only maps documents to events.
 */
import type { FunctionOutput, InvocationContext, Timer } from "@azure/functions";
import { config } from "../config.js";
import { operationStore } from "../store/operationStore.js";
import { trackException, withTelemetryScope } from "../telemetry.js";
import { completionEvents } from "./completion.js";
import { parseInboxMessage, PoisonMessage, processInboxMessage } from "./inbox.js";
import { poisonRecord } from "./poison.js";
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
        if (!(error instanceof PoisonMessage)) {
          // Transient (store throttled or down): throw, so the host retries and, past maxDequeueCount, poisons.
          context.warn(`message ${messageId} failed (attempt ${dequeueCount}), will be retried: ${String(error)}`);
          trackException(error);
          throw error;
        }
        const targets = error.details.map((d) => d.target).filter(Boolean);
        context.warn(
          `message ${messageId} poisoned: ${error.code}: ${error.message}${targets.length ? ` (${targets.join(", ")})` : ""}`,
        );
        // As bytes: the host writes a string that looks like JSON as Json.NET's indented text of it, which can be
        // many times longer than the record (and past what a queue message holds); bytes it writes as they are.
        context.extraOutputs.set(
          poison,
          Buffer.from(poisonRecord(error, payload, { messageId, dequeueCount }), "utf8"),
        );
      }
    });
  };
}

/** Marks operations stuck past the deadline as failed. */
export async function sweeperHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  await withTelemetryScope({ requestId: context.invocationId, trigger: "timer" }, async () => {
    const cfg = config();
    const store = await operationStore(cfg.cosmos);
    const result = await sweepStaleOperations(store, { ...cfg.sweeper, ttlSeconds: cfg.operationTtlSeconds });
    context.info(
      `sweeper: examined ${result.examined}, failed ${result.failed.length} (operationTimedOut), skipped ${result.skipped}`,
    );
  });
}

/** Turns a change-feed batch into completion events on `events`. */
export function completionHandler(events: FunctionOutput) {
  return (documents: unknown[], context: InvocationContext): void => {
    const messages = completionEvents(documents);
    if (messages.length > 0)
      context.extraOutputs.set(
        events,
        messages.map((event) => JSON.stringify(event)),
      );
    context.info(`change feed: ${documents.length} changed, ${messages.length} completion events`);
  };
}
