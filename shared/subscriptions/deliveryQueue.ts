/**
 * The delivery queue: batches waiting for their next retry, each made
 * visible only after its backoff delay, which a Functions output binding
 * cannot set, so the queue is written with the storage SDK through the same
 * connection the host uses (`../queues.ts`).
 */
import { sendMessage } from "../queues.js";
import type { DeliveryBatch, DeliveryQueue } from "./delivery.js";

export class StorageDeliveryQueue implements DeliveryQueue {
  readonly #queueName: string;

  constructor(queueName: string) {
    this.#queueName = queueName;
  }

  async send(batch: DeliveryBatch, delaySeconds: number): Promise<void> {
    await sendMessage(this.#queueName, JSON.stringify(batch), delaySeconds);
  }
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
