/**
 * The local runner's non-HTTP triggers, with the Functions host's semantics
 * where they matter:
 * - storage queue triggers: Base64 messages, a dequeue count, a retry after
 *   `visibilityTimeout`, and the `<queue>-poison` queue after
 *   `maxDequeueCount` (host.json `extensions.queues`, overridable with
 *   `AzureFunctionsJobHost__extensions__queues__*` settings, as in Azure);
 * - timer triggers on their NCRONTAB schedule;
 * - Cosmos DB triggers, fed by polling the local store for changed documents
 *   (the embedded server has no change feed);
 * - storage queue output bindings, written Base64-encoded after a successful run.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CosmosClient } from "@azure/cosmos";
import functions from "@azure/functions";
import { QueueServiceClient, type QueueClient } from "@azure/storage-queue";
import { SETTINGS } from "../shared/config.js";
import { cosmosClientOptions } from "../shared/store/operationStore.js";
import type { BindingMetadata, RegisteredFunction } from "./functionsHost.js";

const { InvocationContext } = functions;

type Log = (level: string, message: string) => void;

/** Resolves `%SETTING%` binding expressions from the environment (or the setting's documented default). */
export function resolveSetting(value: string): string {
  return value.replace(/%([A-Za-z0-9_]+)%/g, (_, name: string) => {
    const found = process.env[name] ?? SETTINGS.find((s) => s.name === name)?.default;
    if (found === undefined) throw new Error(`The binding expression %${name}% names no setting.`);
    return found;
  });
}

interface QueueSettings {
  maxDequeueCount: number;
  visibilityTimeoutSeconds: number;
  batchSize: number;
  pollIntervalMs: number;
}

function timeSpanSeconds(value: string | undefined, fallback: number): number {
  const match = /^(\d+):(\d{2}):(\d{2})$/.exec(value ?? "");
  return match ? Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]) : fallback;
}

function queueSettings(projectRoot: string): QueueSettings {
  const host = JSON.parse(readFileSync(join(projectRoot, "host.json"), "utf8")) as {
    extensions?: { queues?: Record<string, string | number> };
  };
  const queues = host.extensions?.queues ?? {};
  const setting = (name: string) =>
    process.env[`AzureFunctionsJobHost__extensions__queues__${name}`] ?? queues[name]?.toString();
  return {
    maxDequeueCount: Number(setting("maxDequeueCount") ?? 5),
    visibilityTimeoutSeconds: timeSpanSeconds(setting("visibilityTimeout"), 0),
    batchSize: Math.min(32, Number(setting("batchSize") ?? 16)),
    pollIntervalMs: Math.min(1000, timeSpanSeconds(setting("maxPollingInterval"), 1) * 1000),
  };
}

function context(fn: RegisteredFunction, log: Log, triggerMetadata?: Record<string, unknown>) {
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName: fn.name,
    triggerMetadata,
    logHandler: (level, ...args) => log(level, `[${fn.name}] ${args.map(String).join(" ")}`),
  });
}

function outputBindings(fn: RegisteredFunction): BindingMetadata[] {
  return Object.values(fn.bindings).filter((b) => b.direction === "out" && b.type === "queue");
}

function encode(value: unknown): string {
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value), "utf8").toString("base64");
}

/** The host's Base64 decoding: a message that is not Base64 cannot be delivered. */
function decode(text: string): string | undefined {
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64").replace(/=+$/, "") === text.replace(/=+$/, "") ? bytes.toString("utf8") : undefined;
}

/** What the host hands a queue-triggered function: the parsed JSON if the message is JSON, else the string. */
function payload(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

// ---------------------------------------------------------------- NCRONTAB

function fieldMatches(field: string, value: number): boolean {
  return field.split(",").some((part) => {
    const [range, stepText] = part.split("/");
    const step = stepText ? Number(stepText) : 1;
    let [low, high] = [0, Number.MAX_SAFE_INTEGER];
    if (range !== "*") {
      const [a, b] = range!.split("-").map(Number);
      low = a!;
      high = b ?? (stepText ? Number.MAX_SAFE_INTEGER : a!);
    }
    return value >= low && value <= high && (value - (range === "*" ? 0 : low)) % step === 0;
  });
}

/** Whether a six-field NCRONTAB expression (second minute hour day month day-of-week) matches an instant, UTC. */
export function cronMatches(expression: string, at: Date): boolean {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 6) throw new Error(`"${expression}" is not a six-field NCRONTAB expression.`);
  const values = [
    at.getUTCSeconds(),
    at.getUTCMinutes(),
    at.getUTCHours(),
    at.getUTCDate(),
    at.getUTCMonth() + 1,
    at.getUTCDay(),
  ];
  return fields.every((field, i) => fieldMatches(field, values[i]!));
}

// ---------------------------------------------------------------- the runner

export interface TriggerOptions {
  readonly projectRoot: string;
  readonly functions: readonly RegisteredFunction[];
  /** The AzureWebJobsStorage connection string (Azurite locally). */
  readonly storageConnection: string | undefined;
  readonly cosmos: { endpoint: string; key: string; database: string; container: string } | undefined;
  readonly log: Log;
}

export interface Triggers {
  close(): Promise<void>;
}

export async function startTriggers(options: TriggerOptions): Promise<Triggers> {
  const { log } = options;
  const loops: Array<Promise<void>> = [];
  let stopping = false;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const service = options.storageConnection
    ? QueueServiceClient.fromConnectionString(options.storageConnection)
    : undefined;
  const queues = new Map<string, QueueClient>();
  const queue = async (name: string) => {
    let client = queues.get(name);
    if (!client) {
      if (!service) throw new Error("No AzureWebJobsStorage connection for queue bindings.");
      client = service.getQueueClient(name);
      await client.createIfNotExists();
      queues.set(name, client);
    }
    return client;
  };
  const writeOutputs = async (fn: RegisteredFunction, ctx: InstanceType<typeof InvocationContext>) => {
    for (const binding of outputBindings(fn)) {
      const value: unknown = ctx.extraOutputs.get(binding.name);
      if (value === undefined) continue;
      const target = await queue(resolveSetting(String(binding.queueName)));
      for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) await target.sendMessage(encode(item));
    }
  };

  for (const fn of options.functions) {
    const trigger = fn.trigger;
    if (trigger.type === "queueTrigger" && service) {
      const settings = queueSettings(options.projectRoot);
      const inbox = await queue(resolveSetting(String(trigger.queueName)));
      const poison = await queue(`${inbox.name}-poison`);
      loops.push(
        (async () => {
          while (!stopping) {
            const { receivedMessageItems } = await inbox
              .receiveMessages({ numberOfMessages: settings.batchSize, visibilityTimeout: 30 })
              .catch(() => ({ receivedMessageItems: [] }));
            for (const message of receivedMessageItems) {
              const text = decode(message.messageText);
              const ctx = context(fn, log, {
                id: message.messageId,
                dequeueCount: message.dequeueCount,
                insertionTime: message.insertedOn,
                popReceipt: message.popReceipt,
              });
              try {
                if (text === undefined) throw new Error("The message is not Base64-encoded.");
                await fn.handler(payload(text), ctx);
                await writeOutputs(fn, ctx);
                await inbox.deleteMessage(message.messageId, message.popReceipt);
              } catch (error) {
                if (text === undefined || message.dequeueCount >= settings.maxDequeueCount) {
                  log("warning", `[${fn.name}] message ${message.messageId} moved to ${poison.name}: ${String(error)}`);
                  await poison.sendMessage(message.messageText);
                  await inbox.deleteMessage(message.messageId, message.popReceipt);
                } else {
                  await inbox.updateMessage(
                    message.messageId,
                    message.popReceipt,
                    undefined,
                    settings.visibilityTimeoutSeconds,
                  );
                }
              }
            }
            if (receivedMessageItems.length === 0) await sleep(settings.pollIntervalMs);
          }
        })(),
      );
    } else if (trigger.type === "timerTrigger") {
      const schedule = resolveSetting(String(trigger.schedule));
      cronMatches(schedule, new Date()); // refuse a malformed schedule at start, as the host does
      loops.push(
        (async () => {
          let last = Math.floor(Date.now() / 1000);
          while (!stopping) {
            await sleep(1000 - (Date.now() % 1000) + 5);
            const now = Math.floor(Date.now() / 1000);
            const due = [];
            for (let second = last + 1; second <= now; second++) {
              if (cronMatches(schedule, new Date(second * 1000))) due.push(second);
            }
            last = now;
            if (due.length === 0 || stopping) continue;
            const timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: undefined };
            await Promise.resolve(fn.handler(timer, context(fn, log))).catch((error: unknown) =>
              log("error", `[${fn.name}] ${String(error)}`),
            );
          }
        })(),
      );
    } else if (trigger.type === "cosmosDBTrigger" && options.cosmos) {
      const { endpoint, key, database, container } = options.cosmos;
      const client = new CosmosClient({ endpoint, key, ...cosmosClientOptions(endpoint) });
      const items = client.database(database).container(container).items;
      const seen = new Map<string, string>();
      loops.push(
        (async () => {
          let since = 0;
          while (!stopping) {
            try {
              const { resources } = await items
                .query<{ id: string; _etag: string; _ts: number }>({
                  query: "SELECT * FROM c WHERE c._ts >= @since",
                  parameters: [{ name: "@since", value: since }],
                })
                .fetchAll();
              const changed = resources.filter((doc) => seen.get(doc.id) !== doc._etag);
              if (changed.length > 0) {
                const ctx = context(fn, log);
                await fn.handler(changed, ctx);
                await writeOutputs(fn, ctx);
                for (const doc of changed) seen.set(doc.id, doc._etag);
                since = Math.max(since, ...changed.map((d) => d._ts));
              }
            } catch (error) {
              log("warning", `[${fn.name}] change feed poll failed: ${String(error)}`);
            }
            await sleep(500);
          }
          client.dispose();
        })(),
      );
    }
  }
  return {
    close: async () => {
      stopping = true;
      await Promise.allSettled(loops);
    },
  };
}
