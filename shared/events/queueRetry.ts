/**
 * How the Functions host retries a queue message that failed (host.json `extensions.queues`, or the
 * `AzureFunctionsJobHost__extensions__queues__*` app settings that override it, as the host reads them): made
 * visible again `visibilityTimeout` later, at most `maxDequeueCount` times in all. The inbox needs the count to
 * know its last attempt, when it writes the poison record itself (keeping the message's id and the reason).
 * host.json ships in the bundle: these are the values the host runs with.
 */
import host from "../../host.json" with { type: "json" };

type Env = Readonly<Record<string, string | undefined>>;

export interface QueueRetry {
  /** Attempts in all, the first included. */
  readonly maxDequeueCount: number;
  /** Seconds between two attempts. */
  readonly visibilityTimeoutSeconds: number;
}

/** A .NET TimeSpan as host.json writes one: `[d.]hh:mm:ss`. */
function timeSpanSeconds(value: string): number {
  const match = /^(?:(\d+)\.)?(\d+):(\d{2}):(\d{2})$/.exec(value.trim());
  if (!match) throw new Error(`"${value}" is not a TimeSpan (hh:mm:ss).`);
  const [, days, hours, minutes, seconds] = match;
  return ((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds);
}

export function queueRetry(env: Env = process.env): QueueRetry {
  const setting = (name: "maxDequeueCount" | "visibilityTimeout") =>
    env[`AzureFunctionsJobHost__extensions__queues__${name}`] ?? String(host.extensions.queues[name]);
  return {
    maxDequeueCount: Number(setting("maxDequeueCount")),
    visibilityTimeoutSeconds: timeSpanSeconds(setting("visibilityTimeout")),
  };
}

/** How long after its first attempt a message's last attempt comes: a store outage shorter than this poisons nothing. */
export function retryWindowSeconds(retry: QueueRetry): number {
  return (retry.maxDequeueCount - 1) * retry.visibilityTimeoutSeconds;
}
