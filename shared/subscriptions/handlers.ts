/**
 * The delivery functions' handlers: the change feed's first attempt, the
 * delivery queue's retries, and the lifecycle run.
 */
import type { InvocationContext, Timer } from "@azure/functions";
import { config, type AppConfig } from "../config.js";
import { trackException, withTelemetryScope } from "../telemetry.js";
import { systemResolver } from "./addressPolicy.js";
import { deliverChanges, parseDeliveryBatch, retryBatch, type DeliveryOptions } from "./delivery.js";
import { parseDeadLetteredChanges } from "./deadLetteredChanges.js";
import { deliveryQueue } from "./deliveryQueue.js";
import { runSubscriptionLifecycle } from "./lifecycle.js";
import { validationTokenIssuer } from "./resourceData.js";
import { subscriptionStore } from "../store/subscriptions.js";

async function options(cfg: AppConfig, context: InvocationContext): Promise<DeliveryOptions> {
  return {
    store: await subscriptionStore(cfg),
    queue: deliveryQueue(cfg.subscriptions.deliveryQueue),
    // The system resolver; the address policy takes any (the tests feed names and addresses through theirs).
    policy: { allowLoopback: cfg.subscriptions.allowLoopback, resolve: systemResolver },
    timeoutMs: cfg.subscriptions.deliveryTimeoutMs,
    retryScheduleSeconds: cfg.subscriptions.retryScheduleSeconds,
    tenants: cfg.auth.tenants,
    log: (message) => context.info(message),
    validationTokens: validationTokenIssuer(cfg),
  };
}

/** A change-feed batch: one attempt per endpoint, all at once; failures go to the delivery queue. */
export async function deliverNotificationsHandler(documents: unknown[], context: InvocationContext): Promise<void> {
  const { batches, outcomes } = await deliverChanges(documents, await options(config(), context));
  if (batches > 0) {
    const delivered = outcomes.filter((o) => o === "delivered").length;
    context.info(`notifications: ${documents.length} changed, ${batches} batches, ${delivered} acknowledged`);
  }
}

/** A delivery-queue message: one more attempt. A store or queue failure throws, so the host retries it. */
export async function retryNotificationsHandler(payload: unknown, context: InvocationContext): Promise<void> {
  await withTelemetryScope({ requestId: context.invocationId, trigger: "queue" }, async () => {
    // Changes dead-lettered by the change-feed function, replayed: delivered as the feed would have.
    const changes = parseDeadLetteredChanges(payload);
    if (changes) {
      try {
        const { batches } = await deliverChanges(changes.documents, await options(config(), context));
        context.info(`dead-lettered changes replayed: ${changes.documents.length} changes, ${batches} batches`);
      } catch (error) {
        trackException(error);
        throw error;
      }
      return;
    }
    let batch;
    try {
      batch = parseDeliveryBatch(payload);
    } catch {
      batch = undefined;
    }
    if (!batch) {
      context.warn("delivery message dropped: it is not a notification batch");
      return;
    }
    try {
      const outcome = await retryBatch(batch, await options(config(), context));
      context.info(`notification retry ${batch.retries}: ${outcome}`);
    } catch (error) {
      trackException(error);
      throw error;
    }
  });
}

/** The lifecycle timer: reauthorizationRequired before expiry, subscriptionRemoved for tenants no longer accepted. */
export async function subscriptionLifecycleHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  await withTelemetryScope({ requestId: context.invocationId, trigger: "timer" }, async () => {
    const cfg = config();
    try {
      const run = await runSubscriptionLifecycle({
        ...(await options(cfg, context)),
        reauthorizationNoticeMinutes: cfg.subscriptions.reauthorizationNoticeMinutes,
        tenants: cfg.auth.tenants,
      });
      if (run.removed.length + run.reauthorizationRequired.length > 0) {
        context.info(
          `subscription lifecycle: ${run.reauthorizationRequired.length} asked to reauthorize, ${run.removed.length} removed`,
        );
      }
    } catch (error) {
      trackException(error);
      throw error;
    }
  });
}
