/**
 * What the local runner starts with, read once at start-up: the app settings
 * as `func start` gives them (the environment, then local.settings.json), and
 * the runner's own settings (the app's are in shared/config.ts) in a typed
 * object, checked there: a mistyped value stops the runner with a message that
 * names the setting, the value and what is allowed, instead of being ignored
 * or failing later.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { ncrontab } from "./triggers.js";

export type LogLevel = "debug" | "info" | "warning" | "error";

export interface RunnerSettings {
  /** The API's port (0: any free one). */
  readonly port: number;
  /** The embedded store's port (0: any free one). */
  readonly cosmosPort: number;
  /** Azurite's queue port (0: any free one). */
  readonly azuriteQueuePort: number;
  readonly logLevel: LogLevel;
  /** Queue triggers and Azurite. */
  readonly queues: boolean;
  /** Every non-HTTP trigger (queues, timers, the change feed). */
  readonly triggers: boolean;
  /** Where the embedded store and Azurite keep their data; undefined: in memory only. */
  readonly dataDir: string | undefined;
  /** Serve https with the development certificate (devCertificate.ts) instead of http. */
  readonly https: boolean;
}

export class RunnerSettingError extends Error {
  constructor(name: string, value: string, allowed: string) {
    super(`${name}="${value}" is not allowed: ${allowed}.`);
    this.name = "RunnerSettingError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

export interface AppSettings {
  /** Every setting by name: the environment's, and local.settings.json's `Values` where the environment has none. */
  readonly values: Env;
  /** The names whose value came from local.settings.json. */
  readonly fromLocalSettings: ReadonlySet<string>;
}

/**
 * Reads `Values` of local.settings.json as settings, as `func start` does, without overriding the environment. An
 * empty value counts as unset, as in Azure's app settings.
 */
export function readAppSettings(env: Env, appRoot: string): AppSettings {
  const values: Record<string, string | undefined> = { ...env };
  const fromLocalSettings = new Set<string>();
  const file = join(appRoot, "local.settings.json");
  if (!existsSync(file)) return { values, fromLocalSettings };
  let local: Record<string, unknown>;
  try {
    local = (JSON.parse(readFileSync(file, "utf8")) as { Values?: Record<string, unknown> }).Values ?? {};
  } catch (error) {
    throw new Error(`local.settings.json cannot be read as JSON: ${String(error)}`);
  }
  for (const [name, value] of Object.entries(local)) {
    if (typeof value !== "string" || value === "" || values[name] !== undefined) continue;
    values[name] = value;
    fromLocalSettings.add(name);
  }
  return { values, fromLocalSettings };
}

/** The runner's settings (npm start, npm run dev), with their defaults: docs/configuration.md is made from them. */
export const RUNNER_SETTINGS = [
  {
    name: "PORT",
    description: "The API's port.",
    default: "7071",
    allowed: "a port number from 0 to 65535 (0: any free port)",
  },
  {
    name: "COSMOS_PORT",
    description: "The embedded store's port (when COSMOS_ENDPOINT is unset).",
    default: "0",
    allowed: "a port number from 0 to 65535 (0: any free port)",
  },
  {
    name: "AZURITE_QUEUE_PORT",
    description:
      "Azurite's queue port (when AzureWebJobsStorage is unset); never shared with an Azurite the runner did not start.",
    default: "10001",
    allowed: "a port number from 0 to 65535 (0: any free port)",
  },
  {
    name: "LOG_LEVEL",
    description: "What the runner prints: debug adds every request and trigger.",
    default: "info",
    allowed: "debug, info, warning or error",
  },
  {
    name: "LOCAL_QUEUES",
    description: "Azurite and the queue triggers; off: neither.",
    default: "on",
    allowed: "on or off",
  },
  {
    name: "LOCAL_TRIGGERS",
    description: "Every trigger but HTTP (queues, timers, the change feed); off: HTTP only.",
    default: "on",
    allowed: "on or off",
  },
  {
    name: "LOCAL_PERSISTENCE",
    description: "Keep the store and the queues across restarts (in LOCAL_DATA_DIR); off: in memory.",
    default: "on",
    allowed: "on or off",
  },
  {
    name: "LOCAL_DATA_DIR",
    description: "Where the data is kept: store.json (the embedded store) and azurite/ (Azurite's own).",
    default: ".local",
    allowed: "a folder path",
  },
  {
    name: "LOCAL_HTTPS",
    description:
      "Serve https on loopback with a development certificate made in .dev/ (for SDKs that send tokens over https only).",
    default: "off",
    allowed: "on or off",
  },
] as const;

type Name = (typeof RUNNER_SETTINGS)[number]["name"];

function raw(env: Env, name: Name): string {
  const value = env[name];
  if (value !== undefined && value.trim() !== "") return value.trim();
  return RUNNER_SETTINGS.find((s) => s.name === name)!.default;
}

function allowed(name: Name): string {
  return RUNNER_SETTINGS.find((s) => s.name === name)!.allowed;
}

function port(env: Env, name: Name): number {
  const value = raw(env, name);
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new RunnerSettingError(name, value, allowed(name));
  return Number(value);
}

function onOff(env: Env, name: Name): boolean {
  const value = raw(env, name).toLowerCase();
  if (value !== "on" && value !== "off") throw new RunnerSettingError(name, raw(env, name), allowed(name));
  return value === "on";
}

/** Reads and checks the runner's settings, and the app settings whose mistakes only show later (the schedule). */
export function readRunnerSettings(env: Env, projectRoot: string): RunnerSettings {
  const logLevel = raw(env, "LOG_LEVEL").toLowerCase();
  if (!["debug", "info", "warning", "error"].includes(logLevel)) {
    throw new RunnerSettingError("LOG_LEVEL", raw(env, "LOG_LEVEL"), allowed("LOG_LEVEL"));
  }
  for (const name of ["SWEEPER_SCHEDULE", "SUBSCRIPTION_LIFECYCLE_SCHEDULE"]) {
    const schedule = env[name]?.trim();
    if (!schedule) continue;
    try {
      ncrontab(schedule);
    } catch (error) {
      throw new RunnerSettingError(
        name,
        schedule,
        `an NCRONTAB schedule, six fields with seconds first, like "0 */5 * * * *" (${error instanceof Error ? error.message : String(error)})`,
      );
    }
  }
  const triggers = onOff(env, "LOCAL_TRIGGERS");
  const dataDir = raw(env, "LOCAL_DATA_DIR");
  return {
    port: port(env, "PORT"),
    cosmosPort: port(env, "COSMOS_PORT"),
    azuriteQueuePort: port(env, "AZURITE_QUEUE_PORT"),
    logLevel: logLevel as LogLevel,
    queues: triggers && onOff(env, "LOCAL_QUEUES"),
    triggers,
    dataDir: onOff(env, "LOCAL_PERSISTENCE") ? (isAbsolute(dataDir) ? dataDir : join(projectRoot, dataDir)) : undefined,
    https: onOff(env, "LOCAL_HTTPS"),
  };
}
