/**
 * The backlog, measured from outside the functions that drain it: the approximate depth of each queue of the app
 * and of its poison queue, reported as the `QueueDepth` metric after each sweeper run (every 5 minutes by default),
 * so a backlog or a poisoned message shows, and alerts (infra/queries), even when nothing is being processed.
 */
import { approximateDepth, poisonQueueOf } from "../queues.js";
import { trackQueueDepth } from "../telemetry.js";

/** The queues the app reads or writes, each with its poison queue. */
export function queuesOf(queues: { inbox: string; events: string; deliveries: string }): string[] {
  return [queues.inbox, queues.events, queues.deliveries].flatMap((queue) => [queue, poisonQueueOf(queue)]);
}

export interface BacklogReport {
  readonly depths: Readonly<Record<string, number>>;
  /** Queues that could not be measured, with why. */
  readonly failures: Readonly<Record<string, string>>;
}

/** Measures and reports each queue's depth; one queue failing does not stop the others. */
export async function reportBacklog(queues: readonly string[]): Promise<BacklogReport> {
  const depths: Record<string, number> = {};
  const failures: Record<string, string> = {};
  await Promise.all(
    queues.map(async (queue) => {
      try {
        depths[queue] = await approximateDepth(queue);
        trackQueueDepth(queue, depths[queue]);
      } catch (error) {
        failures[queue] = error instanceof Error ? error.message : String(error);
      }
    }),
  );
  return { depths, failures };
}
