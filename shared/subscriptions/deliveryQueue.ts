/**
 * The delivery queue: batches waiting for their next retry, each made
 * visible only after its backoff delay, which a Functions output binding
 * cannot set, so the queue is written with the storage SDK through the same
 * connection the host uses (`../queues.ts`). Messages fit a queue message
 * (64 KiB once Base64-encoded): a larger batch goes as several messages.
 */
import { sendMessage } from "../queues.js";
import type { DeliveryBatch, DeliveryQueue } from "./delivery.js";

export class StorageDeliveryQueue implements DeliveryQueue {
  readonly #queueName: string;

  constructor(queueName: string) {
    this.#queueName = queueName;
  }

  async send(batch: DeliveryBatch, delaySeconds: number): Promise<void> {
    for (const part of messagesOf(batch)) await sendMessage(this.#queueName, part, delaySeconds);
  }
}

/** The most a message's text may hold: 64 KiB once Base64-encoded is 48 KiB, with room to spare. */
export const MAX_MESSAGE_BYTES = 45_000;

/** A batch as the texts of queue messages, each within MAX_MESSAGE_BYTES (a notification is well under it). */
export function messagesOf(batch: DeliveryBatch): string[] {
  const whole = JSON.stringify(batch);
  if (Buffer.byteLength(whole) <= MAX_MESSAGE_BYTES || batch.notifications.length < 2) return [whole];
  const half = Math.ceil(batch.notifications.length / 2);
  return [
    ...messagesOf({ ...batch, notifications: batch.notifications.slice(0, half) }),
    ...messagesOf({ ...batch, notifications: batch.notifications.slice(half) }),
  ];
}

let shared: StorageDeliveryQueue | undefined;
let sharedName: string | undefined;

export function deliveryQueue(queueName: string): DeliveryQueue {
  if (!shared || sharedName !== queueName) {
    shared = new StorageDeliveryQueue(queueName);
    sharedName = queueName;
  }
  return shared;
}
