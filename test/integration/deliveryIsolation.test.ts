/**
 * Delivery isolated per receiver, through the local runner over real HTTP with loopback receivers, the change-feed
 * emulation and the delivery queue on Azurite: receivers that never answer (each request held open for the whole
 * delivery timeout, a minute here) must not hold up another tenant's notifications, neither their first attempt (the
 * change feed hands a batch on once its notifications are sent or queued) nor their retries (the queue's messages
 * run side by side, as the host's queue trigger runs them, one attempt per receiver at a time).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor, type Receiver } from "../support/receiver.js";
import { inMinutes, receiverPool, sentAbout, subscriptionCalls } from "../support/subscriptionCalls.js";
import { startQueuedStack, type QueuedStack } from "../support/stack.js";

/** Longer than any wait below: a receiver that holds a request open holds it past the end of the check. */
const DELIVERY_TIMEOUT_SECONDS = 90;
/** Much less than the delivery timeout: what arrives within it did not wait for a silent receiver. */
const WELL_BEFORE_THE_TIMEOUT_MS = 30_000;

let stack: QueuedStack;
let app: string;
const receivers = receiverPool();
const { subscribed, createOperation } = subscriptionCalls(
  () => stack.baseUrl,
  () => app,
);

/** A tenant of its own for each silent receiver: another tenant's subscriber. */
const otherTenant = () => randomUUID();

const about = sentAbout;
const acknowledged = (r: Receiver, id: string) => r.acknowledged.filter((n) => n.resourceData.id === id);

/** A receiver of another tenant that never answers, subscribed to a team of its own that just changed. */
async function silentReceiver(): Promise<{ receiver: Receiver; operationId: string }> {
  const tenant = otherTenant();
  const token = await stack.token({ app: true, tenant });
  const team = randomUUID();
  const receiver = await receivers.start();
  await subscribed(
    {
      changeType: "created",
      notificationUrl: receiver.url,
      resource: `teams/${team}/operations`,
      expirationDateTime: inMinutes(30),
    },
    token,
  );
  receiver.notify = "hang";
  return { receiver, operationId: await createOperation(team, token) };
}

beforeAll(async () => {
  stack = await startQueuedStack({
    SUBSCRIPTION_VALIDATION_TIMEOUT_SECONDS: "2",
    SUBSCRIPTION_DELIVERY_TIMEOUT_SECONDS: String(DELIVERY_TIMEOUT_SECONDS),
    SUBSCRIPTION_RETRY_SCHEDULE_SECONDS: "1,1,1",
  });
  app = await stack.token({ app: true });
});
afterAll(async () => {
  await stack?.stop();
  await receivers.close();
});

describe("a receiver that never answers", () => {
  it("holds up no other tenant's notifications, and its own batch is retried from the queue at once", async () => {
    const fast = await receivers.start();
    const team = randomUUID();
    await subscribed({
      changeType: "created",
      notificationUrl: fast.url,
      resource: `teams/${team}/operations`,
      expirationDateTime: inMinutes(30),
    });
    const silent = await silentReceiver();
    await waitFor(() => about(silent.receiver, silent.operationId).length > 0, "the silent receiver's first attempt");

    // Each change of the subscriber's team comes in a change-feed batch after the one the silent receiver holds.
    for (let i = 0; i < 3; i++) {
      const id = await createOperation(team, app);
      await waitFor(() => acknowledged(fast, id).length > 0, `notification ${i + 1}`, WELL_BEFORE_THE_TIMEOUT_MS);
    }
    // The silent receiver's batch went to the retry queue without waiting for its deadline.
    await waitFor(
      () => about(silent.receiver, silent.operationId).length >= 2,
      "the silent receiver's retry",
      WELL_BEFORE_THE_TIMEOUT_MS,
    );
    expect(acknowledged(silent.receiver, silent.operationId)).toEqual([]);
  }, 120_000);
});

describe("retries", () => {
  it("of ten silent receivers do not hold up another receiver's retry", async () => {
    const silent = await Promise.all(Array.from({ length: 10 }, () => silentReceiver()));
    // Each holds its first retry open now, for the whole delivery timeout.
    await waitFor(
      () => silent.every(({ receiver, operationId }) => about(receiver, operationId).length >= 2),
      "every silent receiver's first retry",
      WELL_BEFORE_THE_TIMEOUT_MS,
    );

    const recovering = await receivers.start();
    const team = randomUUID();
    await subscribed({
      changeType: "created",
      notificationUrl: recovering.url,
      resource: `teams/${team}/operations`,
      expirationDateTime: inMinutes(30),
    });
    recovering.failNext = 1;
    const id = await createOperation(team, app);
    await waitFor(() => acknowledged(recovering, id).length > 0, "the retry", WELL_BEFORE_THE_TIMEOUT_MS);
    expect(about(recovering, id)).toHaveLength(2);
    // The silent receivers still hold their retries: the one retry did not wait for any of them.
    expect(silent.every(({ receiver }) => receiver.open() > 0)).toBe(true);
  }, 120_000);
});
