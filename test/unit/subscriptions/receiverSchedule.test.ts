import { describe, expect, it } from "vitest";
import type { ChangeNotification, DeliveryBatch } from "../../../shared/subscriptions/delivery.js";
import { MAX_MESSAGE_BYTES, messagesOf } from "../../../shared/subscriptions/deliveryQueue.js";
import { ReceiverSchedule, WaitingBatches } from "../../../shared/subscriptions/receiverSchedule.js";

const URL_A = "https://hooks.contoso.com/a";
const NOW = 1_000_000;

describe("a receiver's schedule", () => {
  it("allows one attempt at a time, until its deadline", () => {
    const schedule = new ReceiverSchedule();
    expect(schedule.begin(URL_A, "first", NOW + 1_000, NOW)).toBe(true);
    expect(schedule.begin(URL_A, "retry", NOW + 5_000, NOW + 10)).toBe(false);
    expect(schedule.waitMs(URL_A, "retry", NOW + 10)).toBe(990);
    expect(schedule.begin("https://hooks.contoso.com/b", "first", NOW + 1_000, NOW)).toBe(true);
  });

  it("rests a failed receiver until its retry is due, and passes it by for first attempts until it acknowledges", () => {
    const schedule = new ReceiverSchedule();
    schedule.begin(URL_A, "first", NOW + 1_000, NOW);
    schedule.end(URL_A, { acknowledged: false, restMs: 10_000 }, NOW + 1_000);
    expect(schedule.waitMs(URL_A, "retry", NOW + 2_000)).toBe(9_000);
    // Rested: a retry may go; a first attempt still may not.
    expect(schedule.waitMs(URL_A, "retry", NOW + 11_000)).toBe(0);
    expect(schedule.waitMs(URL_A, "first", NOW + 11_000)).toBeGreaterThan(0);
    expect(schedule.begin(URL_A, "retry", NOW + 16_000, NOW + 11_000)).toBe(true);
    schedule.end(URL_A, { acknowledged: true }, NOW + 11_100);
    expect(schedule.waitMs(URL_A, "first", NOW + 11_100)).toBe(0);
  });
});

const notification = (id: string, padding = ""): ChangeNotification => ({
  id,
  subscriptionId: "s",
  subscriptionExpirationDateTime: "2026-06-02T00:00:00.0000000Z",
  changeType: "created",
  resource: `teams('t')/operations('${id}${padding}')`,
  resourceData: { "@odata.type": "#microsoft.graph.teamsAsyncOperation", "@odata.id": "x", id },
  clientState: null,
  tenantId: "tenant",
});

const batch = (ids: string[], changes: Partial<DeliveryBatch> = {}): DeliveryBatch => ({
  notificationUrl: URL_A,
  resourceKey: "tenant:t",
  notifications: ids.map((id) => notification(id)),
  retries: 1,
  firstAttemptDateTime: "2026-06-01T00:00:00.000Z",
  ...changes,
});

describe("batches waiting for their receiver", () => {
  it("go back to the queue as one per receiver, team and retry, each notification once", async () => {
    const waiting = new WaitingBatches();
    const sent: DeliveryBatch[] = [];
    const send = (merged: DeliveryBatch) => {
      sent.push(merged);
      return Promise.resolve();
    };
    await Promise.all([
      waiting.wait(batch(["1", "2"]), send),
      waiting.wait(batch(["2", "3"], { firstAttemptDateTime: "2026-05-31T00:00:00.000Z" }), send),
      waiting.wait(batch(["4"], { retries: 2 }), send),
    ]);
    expect(sent.map((b) => [b.retries, b.notifications.map((n) => n.id), b.firstAttemptDateTime])).toEqual([
      [1, ["1", "2", "3"], "2026-05-31T00:00:00.000Z"],
      [2, ["4"], "2026-06-01T00:00:00.000Z"],
    ]);
  });

  it("are each retried from the queue when the merged batch cannot be put there", async () => {
    const waiting = new WaitingBatches();
    const failing = () => Promise.reject(new Error("queue down"));
    const results = await Promise.allSettled([
      waiting.wait(batch(["1"]), failing),
      waiting.wait(batch(["2"]), failing),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  });
});

describe("delivery-queue messages", () => {
  it("hold a large batch in several messages, each within the queue's limit, every notification once", () => {
    const ids = Array.from({ length: 400 }, (_, i) => String(i));
    const large = { ...batch([]), notifications: ids.map((id) => notification(id, "x".repeat(300))) };
    const texts = messagesOf(large);
    expect(texts.length).toBeGreaterThan(1);
    for (const text of texts) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    const back = texts.flatMap((t) => (JSON.parse(t) as DeliveryBatch).notifications.map((n) => n.id));
    expect(back).toEqual(ids);
    expect(messagesOf(batch(["1"]))).toHaveLength(1);
  });
});
