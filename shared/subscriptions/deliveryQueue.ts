/**
 * The delivery queue: batches waiting for their next retry, each made
 * visible only after its backoff delay, which a Functions output binding
 * cannot set, so the queue is written with the storage SDK through the same
 * identity-based connection the host uses (`AzureWebJobsStorage__*`), or the
 * local connection string. Messages are Base64, as the queue trigger reads them,
 * and fit a queue message (64 KiB once encoded): a larger batch goes as
 * several messages.
 */
import type { QueueClient } from "@azure/storage-queue";
import { managedIdentityCredential } from "../identity.js";
import type { DeliveryBatch, DeliveryQueue } from "./delivery.js";

type Env = Readonly<Record<string, string | undefined>>;

async function connect(queueName: string, env: Env): Promise<QueueClient> {
  // Loaded on demand: only the delivery functions need it.
  const { QueueServiceClient } = await import("@azure/storage-queue");
  const connection = env.AzureWebJobsStorage;
  const service = connection
    ? QueueServiceClient.fromConnectionString(connection)
    : env.AzureWebJobsStorage__queueServiceUri
      ? new QueueServiceClient(
          env.AzureWebJobsStorage__queueServiceUri,
          await managedIdentityCredential(env.AzureWebJobsStorage__clientId ?? env.AZURE_CLIENT_ID),
        )
      : undefined;
  if (!service) throw new Error("No AzureWebJobsStorage connection for the delivery queue.");
  return service.getQueueClient(queueName);
}

export class StorageDeliveryQueue implements DeliveryQueue {
  readonly #client: Promise<QueueClient>;

  constructor(queueName: string, env: Env = process.env) {
    this.#client = connect(queueName, env);
    this.#client.catch(() => undefined);
  }

  async send(batch: DeliveryBatch, delaySeconds: number): Promise<void> {
    const client = await this.#client;
    for (const part of messagesOf(batch)) {
      const text = Buffer.from(part, "utf8").toString("base64");
      await client.sendMessage(text, { visibilityTimeout: delaySeconds, abortSignal: AbortSignal.timeout(10_000) });
    }
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
