/**
 * Storage queues the app writes and measures itself, through the connection the Functions host uses
 * (`AzureWebJobsStorage`: a connection string locally, `AzureWebJobsStorage__queueServiceUri` and the managed
 * identity in Azure). Messages are Base64, as the queue trigger reads them. One client per queue and process;
 * `@azure/storage-queue` is loaded on first use.
 */
import type { QueueClient, QueueServiceClient } from "@azure/storage-queue";
import { managedIdentityCredential } from "./identity.js";
import { trackQueueCall, type QueueCall } from "./telemetry.js";

type Env = Readonly<Record<string, string | undefined>>;

/** The poison queue of a queue: where the host (and the app) put what cannot be processed. */
export const poisonQueueOf = (queueName: string) => `${queueName}-poison`;

/** How long a write to a queue may take before it counts as failed. */
const SEND_TIMEOUT_MS = 10_000;

/** Whether the host's storage connection is set (locally it is not when the runner runs without queues). */
export function queuesConfigured(env: Env = process.env): boolean {
  return Boolean(env.AzureWebJobsStorage || env.AzureWebJobsStorage__queueServiceUri);
}

async function connect(env: Env): Promise<QueueServiceClient> {
  const { QueueServiceClient } = await import("@azure/storage-queue");
  if (env.AzureWebJobsStorage) return QueueServiceClient.fromConnectionString(env.AzureWebJobsStorage);
  if (env.AzureWebJobsStorage__queueServiceUri) {
    return new QueueServiceClient(
      env.AzureWebJobsStorage__queueServiceUri,
      await managedIdentityCredential(env.AzureWebJobsStorage__clientId ?? env.AZURE_CLIENT_ID),
    );
  }
  throw new Error("No AzureWebJobsStorage connection for the queues.");
}

let service: Promise<QueueServiceClient> | undefined;
const clients = new Map<string, QueueClient>();

/** The client of one queue, through the host's storage connection. */
export async function queueClient(queueName: string, env: Env = process.env): Promise<QueueClient> {
  service ??= connect(env).catch((error: unknown) => {
    service = undefined;
    throw error;
  });
  let client = clients.get(queueName);
  if (!client) {
    client = (await service).getQueueClient(queueName);
    clients.set(queueName, client);
  }
  return client;
}

const queueMissing = (error: unknown) => (error as { statusCode?: unknown } | null)?.statusCode === 404;

/** Storage's answer to a call: the status of its response, or of the error it threw (none when no answer came). */
function statusOf(outcome: unknown): number | undefined {
  const status =
    (outcome as { _response?: { status?: unknown } } | null)?._response?.status ??
    (outcome as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

/** Runs one call to a queue, reported as a dependency of the invocation. */
async function reported<T>(client: QueueClient, operation: QueueCall["operation"], call: () => Promise<T>) {
  const startTime = Date.now();
  const started = performance.now();
  const report = (outcome: unknown) =>
    trackQueueCall({
      url: client.url,
      operation,
      startTime,
      durationMs: performance.now() - started,
      statusCode: statusOf(outcome),
    });
  try {
    const result = await call();
    report(result);
    return result;
  } catch (error) {
    report(error);
    throw error;
  }
}

/**
 * Sends one message (Base64), visible after `visibilityTimeout` seconds (0: at once). A queue that does not exist
 * yet is created (the infrastructure creates every queue in Azure; locally, Azurite starts empty).
 */
export async function sendMessage(queueName: string, text: string, visibilityTimeout = 0): Promise<void> {
  const client = await queueClient(queueName);
  const send = () =>
    reported(client, "send", () =>
      client.sendMessage(Buffer.from(text, "utf8").toString("base64"), {
        visibilityTimeout,
        abortSignal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      }),
    );
  try {
    await send();
  } catch (error) {
    if (!queueMissing(error)) throw error;
    await client.createIfNotExists({ abortSignal: AbortSignal.timeout(SEND_TIMEOUT_MS) });
    await send();
  }
}

/** Sends each text as one message, in order; throws at the first that is not accepted. */
export async function sendMessages(queueName: string, texts: readonly string[]): Promise<void> {
  for (const text of texts) await sendMessage(queueName, text);
}

/**
 * The approximate number of messages in a queue (what Storage reports; it may lag a little); 0 for a queue not
 * created yet (locally, a poison queue nothing has been poisoned to).
 */
export async function approximateDepth(queueName: string): Promise<number> {
  const client = await queueClient(queueName);
  try {
    const properties = await reported(client, "properties", () =>
      client.getProperties({ abortSignal: AbortSignal.timeout(SEND_TIMEOUT_MS) }),
    );
    return properties.approximateMessagesCount ?? 0;
  } catch (error) {
    if (queueMissing(error)) return 0;
    throw error;
  }
}
