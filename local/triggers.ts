/**
 * The local host's non-HTTP triggers and its queue output bindings: what the
 * Functions host sends the worker for each invocation, and what it does with
 * the worker's answer.
 * - Storage queue triggers: Base64 messages (host.json `messageEncoding`), the
 *   message as a string and the queue extension's trigger metadata
 *   (DequeueCount, Id, InsertionTime, ...), a retry after `visibilityTimeout`,
 *   and the `<queue>-poison` queue after `maxDequeueCount` (host.json
 *   `extensions.queues`, overridable with `AzureFunctionsJobHost__extensions__queues__*`).
 *   Messages run side by side as the host's queue listener runs them: it
 *   fetches `batchSize` messages, starts them all, and fetches the next batch
 *   once no more than `newBatchThreshold` are still running.
 * - Timer triggers on their NCRONTAB schedule, with the TimerInfo the host sends.
 * - Cosmos DB triggers: the embedded store's own change feed
 *   (storeMirror.ts), woken by each change, from the trigger's lease, which is
 *   kept with the data, so a restart resumes where it stopped (no lease yet:
 *   from now, as the host's `startFromBeginning` default); against a store
 *   this process did not start, by polling it for changed documents.
 * - Storage queue output bindings, written after a successful invocation, one
 *   message per item, as the host's queue binding writes them.
 * Every invocation goes through the worker (functionsHost.ts) and so through
 * the app's own programming model and hooks.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CosmosClient, type Container } from "@azure/cosmos";
import { QueueServiceClient, type DequeuedMessageItem, type QueueClient } from "@azure/storage-queue";
import { Cron } from "croner";
import { SETTINGS } from "../shared/config.js";
import type { LocalChangeFeed } from "./embeddedCosmos.js";
import { cosmosClientOptions } from "../shared/store/cosmos.js";
import {
  invokeFunction,
  type RegisteredFunction,
  type RpcInvocationRequest,
  type RpcInvocationResponse,
  type RpcTypedData,
} from "./functionsHost.js";

type Log = (level: string, message: string) => void;

/** App settings by name, as the host gives them to the worker. */
export type Settings = Readonly<Record<string, string | undefined>>;

/** Resolves `%SETTING%` binding expressions from the app settings (or the setting's documented default). */
export function resolveSetting(value: string, settings: Settings): string {
  return value.replace(/%([A-Za-z0-9_]+)%/g, (_, name: string) => {
    const found = settings[name] ?? SETTINGS.find((s) => s.name === name)?.default;
    if (found === undefined) throw new Error(`The binding expression %${name}% names no setting.`);
    return found;
  });
}

/** A W3C trace context for an invocation the host starts itself (no incoming request to continue). */
export function newTraceContext(): NonNullable<RpcInvocationRequest["traceContext"]> {
  return { traceParent: `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-00`, traceState: "" };
}

// ---------------------------------------------------------------- .NET's text forms, as the host writes them

/** A DateTimeOffset as Newtonsoft.Json writes it: ISO 8601, trailing zeros of the fraction dropped, `+00:00`. */
export function newtonsoftDate(date: Date): string {
  const iso = date.toISOString();
  const fraction = iso.slice(20, 23).replace(/0+$/, "");
  return `${iso.slice(0, 19)}${fraction ? `.${fraction}` : ""}+00:00`;
}

/** A double as .NET writes it: `1E+21`, `1E-07`, not JavaScript's `1e+21`, `1e-7`. */
function dotnetNumber(value: number): string {
  return String(value)
    .replace(/e([+-])(\d)$/, "e$10$2")
    .toUpperCase();
}

/** Newtonsoft's `JToken.ToString()`: indented by two spaces, and it also escapes U+0085, U+2028 and U+2029. */
function newtonsoftIndented(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[\u0085\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Json.NET's `JValue`/`JToken.ToString()` for one item the queue binding writes. */
function tokenText(token: unknown): string {
  if (token === null) return "";
  if (typeof token === "string") return token;
  if (typeof token === "boolean") return token ? "True" : "False";
  if (typeof token === "number") return Number.isInteger(token) ? String(token) : dotnetNumber(token);
  return newtonsoftIndented(token);
}

/** The host's `Utility.IsJson`: an object or array by its first and last characters. */
function looksLikeJson(text: string): boolean {
  const trimmed = text.trim();
  return (trimmed.startsWith("{") && trimmed.endsWith("}")) || (trimmed.startsWith("[") && trimmed.endsWith("]"));
}

/**
 * The messages the host's queue output binding writes for one output value the worker returned
 * (`IAsyncCollector<byte[]>` over `FunctionBinding.ReadAsEnumerable`): a JSON array is one message per item, any
 * other value one message; bytes as they are, everything else as Json.NET's text of it, in UTF-8.
 */
export function queueMessagesOf(data: RpcTypedData): Buffer[] {
  let items: unknown[];
  if (data.bytes ?? data.stream) return [Buffer.from((data.bytes ?? data.stream)!)];
  if (typeof data.json === "string") {
    const token = JSON.parse(data.json) as unknown;
    items = Array.isArray(token) ? token : [token];
  } else if (typeof data.string === "string") {
    const token = looksLikeJson(data.string) ? (JSON.parse(data.string) as unknown) : data.string;
    items = Array.isArray(token) ? token : [token];
  } else if (typeof data.int === "number" || typeof data.double === "number") {
    items = [data.int ?? data.double];
  } else if (data.collectionBytes?.bytes) {
    return data.collectionBytes.bytes.map((b) => Buffer.from(b));
  } else {
    items = data.collectionString?.string ?? data.collectionDouble?.double ?? data.collectionSint64?.sint64 ?? [];
  }
  return items.map((item) => Buffer.from(tokenText(item), "utf8"));
}

// ---------------------------------------------------------------- queues

interface QueueSettings {
  maxDequeueCount: number;
  visibilityTimeoutSeconds: number;
  batchSize: number;
  /** Messages still running at or below which the next batch is fetched. */
  newBatchThreshold: number;
  /** The longest wait between polls of an empty queue. */
  pollIntervalMs: number;
  base64: boolean;
}

/** How long a fetched message stays invisible while it runs: the host's ten minutes. */
const FETCH_VISIBILITY_SECONDS = 600;
/** The shortest wait between polls of an empty queue (the host's QueuePollingIntervals.Minimum). */
const MIN_POLL_MS = 100;
/** How long a stop waits for the messages still running. */
const STOP_GRACE_MS = 5_000;

function timeSpanSeconds(value: string | undefined, fallback: number): number {
  const match = /^(\d+):(\d{2}):(\d{2})$/.exec(value ?? "");
  return match ? Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]) : fallback;
}

function queueSettings(projectRoot: string, settings: Settings): QueueSettings {
  const host = JSON.parse(readFileSync(join(projectRoot, "host.json"), "utf8")) as {
    extensions?: { queues?: Record<string, string | number> };
  };
  const queues = host.extensions?.queues ?? {};
  const setting = (name: string) =>
    settings[`AzureFunctionsJobHost__extensions__queues__${name}`] ?? queues[name]?.toString();
  const batchSize = Math.min(32, Number(setting("batchSize") ?? 16));
  // The host's default is half a batch per processor; a consumption instance counts one.
  const threshold = setting("newBatchThreshold");
  return {
    maxDequeueCount: Number(setting("maxDequeueCount") ?? 5),
    visibilityTimeoutSeconds: timeSpanSeconds(setting("visibilityTimeout"), 0),
    batchSize,
    newBatchThreshold: threshold === undefined ? Math.floor(batchSize / 2) : Number(threshold),
    pollIntervalMs: Math.min(1000, timeSpanSeconds(setting("maxPollingInterval"), 1) * 1000),
    base64: (setting("messageEncoding") ?? "base64").toLowerCase() !== "none",
  };
}

/** The host's Base64 decoding: a message that is not Base64 cannot be delivered. */
function decode(text: string): string | undefined {
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64").replace(/=+$/, "") === text.replace(/=+$/, "") ? bytes.toString("utf8") : undefined;
}

/** The storage queues of one account, created on first use, and the host's queue output bindings over them. */
export class QueueOutputs {
  readonly #service: QueueServiceClient | undefined;
  readonly #queues = new Map<string, Promise<QueueClient>>();
  readonly #base64: boolean;
  readonly #settings: Settings;

  constructor(connection: string | undefined, projectRoot: string, settings: Settings) {
    this.#service = connection ? QueueServiceClient.fromConnectionString(connection) : undefined;
    this.#base64 = queueSettings(projectRoot, settings).base64;
    this.#settings = settings;
  }

  get connected(): boolean {
    return this.#service !== undefined;
  }

  queue(name: string): Promise<QueueClient> {
    let client = this.#queues.get(name);
    if (!client) {
      const service = this.#service;
      if (!service) return Promise.reject(new Error("No AzureWebJobsStorage connection for queue bindings."));
      client = (async () => {
        const queue = service.getQueueClient(name);
        await queue.createIfNotExists();
        return queue;
      })();
      client.catch(() => this.#queues.delete(name));
      this.#queues.set(name, client);
    }
    return client;
  }

  /** Writes what an invocation put in its queue output bindings (extra outputs and a `$return` queue binding). */
  async write(fn: RegisteredFunction, response: RpcInvocationResponse): Promise<void> {
    for (const binding of Object.values(fn.bindings)) {
      if (binding.direction !== "out" || binding.type !== "queue") continue;
      const data =
        binding.name === "$return"
          ? response.returnValue
          : response.outputData?.find((output) => output.name === binding.name)?.data;
      if (!data) continue;
      const messages = queueMessagesOf(data);
      if (messages.length === 0) continue;
      const target = await this.queue(resolveSetting(String(binding.queueName), this.#settings));
      for (const message of messages) {
        await target.sendMessage(this.#base64 ? message.toString("base64") : message.toString("utf8"));
      }
    }
  }
}

// ---------------------------------------------------------------- NCRONTAB

/**
 * A timer trigger's schedule, read as the host's NCrontab does: six fields with seconds first, or five without;
 * numbers or names for months and days; a day must match both the day-of-month and the day-of-week fields; UTC.
 */
export function ncrontab(expression: string): Cron {
  const fields = expression.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    throw new Error(`"${expression}" is not an NCRONTAB expression (six fields, seconds first, or five).`);
  }
  return new Cron(expression.trim(), { timezone: "UTC", mode: "5-or-6-parts", domAndDow: true, paused: true });
}

// ---------------------------------------------------------------- the runner

export interface TriggerOptions {
  readonly projectRoot: string;
  /** The app settings the bindings' `%SETTING%` expressions and host.json overrides are read from. */
  readonly settings: Settings;
  readonly functions: readonly RegisteredFunction[];
  readonly outputs: QueueOutputs;
  readonly cosmos: { endpoint: string; key: string; database: string; container: string } | undefined;
  /** The embedded store's change feed, when this process runs it. */
  readonly changeFeed?: LocalChangeFeed;
  readonly log: Log;
}

/** Documents a Cosmos DB trigger is given at most at once (the host's `maxItemsPerInvocation` default). */
const MAX_ITEMS_PER_INVOCATION = 100;

export interface Triggers {
  close(): Promise<void>;
}

function request(
  fn: RegisteredFunction,
  input: RpcTypedData,
  triggerMetadata: Record<string, RpcTypedData>,
): RpcInvocationRequest {
  return {
    invocationId: randomUUID(),
    functionId: fn.functionId,
    inputData: [{ name: fn.trigger.name, data: input }],
    triggerMetadata,
    traceContext: newTraceContext(),
  };
}

/** What the queue extension puts in the binding data of a message; the host sends each as typed data. */
function queueTriggerMetadata(
  text: string,
  message: {
    messageId: string;
    popReceipt: string;
    dequeueCount: number;
    insertedOn: Date;
    expiresOn: Date;
    nextVisibleOn: Date;
  },
): Record<string, RpcTypedData> {
  const date = (value: Date) => ({ json: JSON.stringify(newtonsoftDate(value)) });
  return {
    QueueTrigger: { string: text },
    DequeueCount: { json: String(message.dequeueCount) },
    ExpirationTime: date(message.expiresOn),
    Id: { string: message.messageId },
    InsertionTime: date(message.insertedOn),
    NextVisibleTime: date(message.nextVisibleOn),
    PopReceipt: { string: message.popReceipt },
  };
}

/** A value of the container's partition key path (e.g. `/teamId`) in a document. */
function partitionKeyOf(document: Record<string, unknown>, path: string): unknown {
  return path
    .split("/")
    .filter(Boolean)
    .reduce<unknown>((value, part) => (value as Record<string, unknown> | undefined)?.[part], document);
}

export async function startTriggers(options: TriggerOptions): Promise<Triggers> {
  const { log, outputs } = options;
  const loops: Array<Promise<void>> = [];
  const stopping = new AbortController();
  const pause = (ms: number) => sleep(ms, undefined, { signal: stopping.signal }).catch(() => undefined);
  const failed = (fn: RegisteredFunction, error: unknown) =>
    log("error", `[${fn.name}] invocation failed: ${error instanceof Error ? error.message : String(error)}`);

  for (const fn of options.functions) {
    const trigger = fn.trigger;
    if (trigger.type === "queueTrigger" && outputs.connected) {
      const settings = queueSettings(options.projectRoot, options.settings);
      const inbox = await outputs.queue(resolveSetting(String(trigger.queueName), options.settings));
      const poison = await outputs.queue(`${inbox.name}-poison`);
      const run = async (message: DequeuedMessageItem) => {
        const text = settings.base64 ? decode(message.messageText) : message.messageText;
        try {
          if (text === undefined) throw new Error("The message is not Base64-encoded.");
          const response = await invokeFunction(fn, request(fn, { string: text }, queueTriggerMetadata(text, message)));
          await outputs.write(fn, response);
          await inbox.deleteMessage(message.messageId, message.popReceipt);
        } catch (error) {
          if (text === undefined || message.dequeueCount >= settings.maxDequeueCount) {
            log("warning", `[${fn.name}] message ${message.messageId} moved to ${poison.name}: ${String(error)}`);
            await poison.sendMessage(message.messageText);
            await inbox.deleteMessage(message.messageId, message.popReceipt);
          } else {
            failed(fn, error);
            await inbox.updateMessage(
              message.messageId,
              message.popReceipt,
              undefined,
              settings.visibilityTimeoutSeconds,
            );
          }
        }
      };
      loops.push(
        (async () => {
          const running = new Map<Promise<void>, DequeuedMessageItem>();
          let idleMs = MIN_POLL_MS;
          while (!stopping.signal.aborted) {
            const { receivedMessageItems } = await inbox
              .receiveMessages({ numberOfMessages: settings.batchSize, visibilityTimeout: FETCH_VISIBILITY_SECONDS })
              .catch(() => ({ receivedMessageItems: [] }));
            for (const message of receivedMessageItems) {
              const task: Promise<void> = run(message)
                .catch((error: unknown) => failed(fn, error))
                .finally(() => running.delete(task));
              running.set(task, message);
            }
            if (receivedMessageItems.length === 0) {
              // An empty queue is polled less and less often, up to maxPollingInterval, as the host does.
              await pause(idleMs);
              idleMs = Math.min(idleMs * 2, settings.pollIntervalMs);
              continue;
            }
            idleMs = MIN_POLL_MS;
            while (running.size > settings.newBatchThreshold && !stopping.signal.aborted) {
              await Promise.race([...running.keys(), pause(settings.pollIntervalMs)]);
            }
          }
          // Stopping: what is still running after a grace period is released, to run again at the next start.
          await Promise.race([Promise.allSettled(running.keys()), sleep(STOP_GRACE_MS)]);
          await Promise.allSettled(
            [...running.values()].map((m) => inbox.updateMessage(m.messageId, m.popReceipt, undefined, 0)),
          );
        })(),
      );
    } else if (trigger.type === "timerTrigger") {
      // A malformed schedule stops the start.
      const schedule = ncrontab(resolveSetting(String(trigger.schedule), options.settings));
      const [first, second] = schedule.nextRuns(2);
      // The host keeps a schedule status (useMonitor) for schedules of a minute or more.
      const monitored = first && second ? second.getTime() - first.getTime() >= 60_000 : false;
      const never = "0001-01-01T00:00:00";
      let status = { Last: never, LastUpdated: never };
      loops.push(
        (async () => {
          let next = schedule.nextRun();
          while (next && !stopping.signal.aborted) {
            // In steps: a timer cannot wait longer than 2^31 - 1 ms (a yearly schedule would fire at once).
            while (Date.now() < next.getTime() && !stopping.signal.aborted) {
              await pause(Math.min(next.getTime() - Date.now(), 2 ** 30));
            }
            if (stopping.signal.aborted) break;
            const due = next;
            const timer = {
              Schedule: { AdjustForDST: true },
              ScheduleStatus: monitored
                ? { Last: status.Last, Next: newtonsoftDate(due), LastUpdated: status.LastUpdated }
                : null,
              // Past due when a later occurrence has come too, i.e. one was missed.
              IsPastDue: (schedule.nextRun(due)?.getTime() ?? Infinity) <= Date.now(),
            };
            const metadata = { TimerTrigger: { string: due.toISOString() } };
            await invokeFunction(fn, request(fn, { string: JSON.stringify(timer) }, metadata))
              .then((response) => outputs.write(fn, response))
              .catch((error: unknown) => failed(fn, error));
            status = { Last: newtonsoftDate(due), LastUpdated: newtonsoftDate(new Date()) };
            next = schedule.nextRun(new Date(Math.max(Date.now(), due.getTime())));
          }
        })(),
      );
    } else if (trigger.type === "cosmosDBTrigger" && options.changeFeed) {
      const { mirror, saveLease } = options.changeFeed;
      const database = resolveSetting(String(trigger.databaseName), options.settings);
      const container = resolveSetting(String(trigger.containerName), options.settings);
      loops.push(
        (async () => {
          let position = mirror.leases.get(fn.name) ?? mirror.sequence;
          while (!stopping.signal.aborted) {
            const next = mirror.nextChange(stopping.signal);
            const { documents, position: after } = mirror.changesAfter(
              database,
              container,
              position,
              MAX_ITEMS_PER_INVOCATION,
            );
            if (documents.length === 0) {
              await next;
              continue;
            }
            try {
              const response = await invokeFunction(fn, request(fn, { string: JSON.stringify(documents) }, {}));
              await outputs.write(fn, response);
              position = after;
              await saveLease(fn.name, position);
            } catch (error) {
              // The same documents again after a pause, as the host retries a failed batch.
              log("warning", `[${fn.name}] change feed batch failed: ${String(error)}`);
              await pause(1_000);
            }
          }
        })(),
      );
    } else if (trigger.type === "cosmosDBTrigger" && options.cosmos) {
      const { endpoint, key, database, container: containerName } = options.cosmos;
      const client = new CosmosClient({ endpoint, key, ...cosmosClientOptions(endpoint) });
      const container: Container = client.database(database).container(containerName);
      loops.push(
        (async () => {
          // Documents are keyed by partition key and id together, as the store keys them.
          const seen = new Map<string, string>();
          let partitionKeyPath: string | undefined;
          let since = 0;
          // Counted in the debug log, so that a test can wait for polls rather than for time.
          let polls = 0;
          while (!stopping.signal.aborted) {
            try {
              partitionKeyPath ??= (await container.read()).resource?.partitionKey?.paths?.[0] ?? "/id";
              const path = partitionKeyPath;
              const { resources } = await container.items
                .query<Record<string, unknown> & { id: string; _etag: string; _ts: number }>({
                  query: "SELECT * FROM c WHERE c._ts >= @since",
                  parameters: [{ name: "@since", value: since }],
                })
                .fetchAll();
              const keyOf = (doc: Record<string, unknown>) => JSON.stringify([partitionKeyOf(doc, path), doc.id]);
              const changed = resources.filter((doc) => seen.get(keyOf(doc)) !== doc._etag);
              if (changed.length > 0) {
                const response = await invokeFunction(fn, request(fn, { string: JSON.stringify(changed) }, {}));
                await outputs.write(fn, response);
                for (const doc of changed) seen.set(keyOf(doc), doc._etag);
                since = Math.max(since, ...changed.map((d) => d._ts));
              }
            } catch (error) {
              log("warning", `[${fn.name}] change feed batch failed: ${String(error)}`);
            }
            log("debug", `[${fn.name}] change feed poll ${++polls} done`);
            await pause(500);
          }
          client.dispose();
        })(),
      );
    }
  }
  return {
    close: async () => {
      stopping.abort();
      await Promise.allSettled(loops);
    },
  };
}
