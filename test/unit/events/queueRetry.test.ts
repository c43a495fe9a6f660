/**
 * How long a failing message or change-feed batch is retried before it is poisoned: long enough to ride out a store
 * (or queue) outage of 15 minutes, bounded, and read from where the host reads it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CHANGE_FEED_RETRY } from "../../../shared/events/changeFeed.js";
import { queueRetry, retryWindowSeconds } from "../../../shared/events/queueRetry.js";
import { PROJECT_ROOT } from "../../support/stack.js";

const OUTAGE_SECONDS = 15 * 60;

describe("queue messages (host.json extensions.queues)", () => {
  it("are retried for at least 15 minutes before they are poisoned", () => {
    const retry = queueRetry({});
    expect(retryWindowSeconds(retry)).toBeGreaterThanOrEqual(OUTAGE_SECONDS);
  });

  it("are read from host.json, the file the host reads", () => {
    const host = JSON.parse(readFileSync(join(PROJECT_ROOT, "host.json"), "utf8")) as {
      extensions: { queues: { maxDequeueCount: number; visibilityTimeout: string } };
    };
    const [h, m, s] = host.extensions.queues.visibilityTimeout.split(":").map(Number);
    expect(queueRetry({})).toEqual({
      maxDequeueCount: host.extensions.queues.maxDequeueCount,
      visibilityTimeoutSeconds: h! * 3600 + m! * 60 + s!,
    });
  });

  it("follow the app settings that override host.json, as the host does", () => {
    expect(
      queueRetry({
        AzureFunctionsJobHost__extensions__queues__maxDequeueCount: "3",
        AzureFunctionsJobHost__extensions__queues__visibilityTimeout: "1.00:00:05",
      }),
    ).toEqual({ maxDequeueCount: 3, visibilityTimeoutSeconds: 86_405 });
  });
});

describe("change-feed batches (the retry policy of both change-feed functions)", () => {
  it("are retried a bounded number of times, for at least 15 minutes", () => {
    expect(CHANGE_FEED_RETRY.maxRetryCount).toBeGreaterThan(0);
    const delaySeconds = CHANGE_FEED_RETRY.delayInterval.seconds;
    expect(CHANGE_FEED_RETRY.strategy).toBe("fixedDelay");
    expect(CHANGE_FEED_RETRY.maxRetryCount * delaySeconds).toBeGreaterThanOrEqual(OUTAGE_SECONDS);
  });
});
