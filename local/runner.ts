/**
 * The local runner: serves the app's own HTTP functions on
 * http://127.0.0.1:7071/v1.0, as `func start` would, for machines where Azure
 * Functions Core Tools cannot be installed. The host's part is in host/ (the
 * server, its refusals, the invocation request, the response); this file puts
 * a developer's run together: the settings, the data folder, the embedded
 * store and Azurite (with no COSMOS_ENDPOINT), the triggers, the banner and a
 * graceful stop. Tokens come from `npm run --silent token`.
 */
import { mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { COSMOS_DEFAULTS, misspeltSettings, SETTINGS } from "../shared/config.js";
import type * as DataLock from "../scripts/data-lock.js";
import { ensureDevCertificate } from "./devCertificate.js";
import { DEV_AUDIENCE, devDir, ensureDevKeys, ensureNotificationSigningKey, PROJECT_ROOT } from "./devIdentity.js";
import { ensureLocalContainer, startEmbeddedCosmos, type EmbeddedCosmos } from "./embeddedCosmos.js";
import { PortTakenError, startAzuriteQueue, type Azurite } from "./azurite.js";
import { loadFunctionApp, setWorkerLog, terminateApp } from "./functionsHost.js";
import { startLocalServer } from "./host/server.js";
import { readAppSettings, readRunnerSettings, RUNNER_SETTINGS } from "./runnerSettings.js";
import { QueueOutputs, resolveSetting, startTriggers } from "./triggers.js";

/** The app's settings, and what the runner reads that is not one of its own typed settings. */
const APP_SETTING_NAMES = [
  ...SETTINGS.map((s) => s.name),
  "AzureWebJobsStorage",
  "AzureWebJobsScriptRoot",
  "TEAMOPS_DEV_DIR",
];

/** A taken port, said with the setting that moves it. */
function portTaken(error: unknown, setting: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EADDRINUSE" || error instanceof PortTakenError) {
    // A second runner needs a data folder of its own too.
    const data = setting === "PORT" ? " (and LOCAL_DATA_DIR to a folder of its own)" : "";
    return new Error(
      `Port ${port} on 127.0.0.1 is taken (${setting}); stop what uses it, or set ${setting} to another port${data}.`,
    );
  }
  return error;
}

/**
 * Takes the data folder's lock (scripts/data-lock.js, plain JavaScript so that `npm run reset` reads it without a
 * build): a folder another running runner holds stops the start, naming that runner. Released when the runner stops,
 * and at any exit short of SIGKILL.
 */
async function holdDataFolder(dataDir: string, log: (level: string, message: string) => void) {
  const { lockDataFolder } = (await import(
    pathToFileURL(join(PROJECT_ROOT, "scripts/data-lock.js")).href
  )) as typeof DataLock;
  mkdirSync(dataDir, { recursive: true });
  const lock = lockDataFolder(dataDir);
  if (lock.tookOver) {
    log(
      "warning",
      `The data folder ${dataDir} was locked by process ${lock.tookOver.pid ?? "(unknown)"}, which is no longer running: its lock is taken over.`,
    );
  }
  const release = () => lock.release();
  process.once("exit", release);
  return {
    setPort: (port: number) => lock.setPort(port),
    close: () => {
      process.removeListener("exit", release);
      release();
      return Promise.resolve();
    },
  };
}

/** A store named in the settings that does not answer: say where the setting came from and what to do. */
async function storeWarning(endpoint: string, fromLocalSettings: boolean): Promise<string | undefined> {
  if (!/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(endpoint)) return undefined;
  const answered = await fetch(endpoint, { signal: AbortSignal.timeout(3_000) }).then(
    () => true,
    () => false,
  );
  if (answered) return undefined;
  const origin = fromLocalSettings ? " (from local.settings.json)" : "";
  return (
    `COSMOS_ENDPOINT${origin} is ${endpoint}, which does not answer: start that store (npm run start:store), ` +
    "or leave COSMOS_ENDPOINT unset for the embedded one. Until then, requests that need the store get 503."
  );
}

async function main(): Promise<void> {
  // Resources are recorded as they start, so a signal at any moment (even during start-up) stops what has started.
  const started: { close(): Promise<void> }[] = [];
  let stopping = false;
  let exitCode = 0;
  const stopAll = async () => {
    for (const resource of started.reverse()) await resource.close().catch(() => undefined);
  };
  const shutdown = (signal: string) => {
    if (stopping) {
      console.log(`${signal}: still stopping (saving what was acknowledged)`);
      return;
    }
    stopping = true;
    console.log(`${signal}: stopping`);
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    void stopAll().then(() => process.exit(exitCode));
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  try {
    await start(started, () => stopping);
  } catch (error) {
    exitCode = 1;
    console.error(error instanceof Error ? error.message : String(error));
    if (!stopping) shutdown("start-up failed");
  }
}

/** Where the app's operations and subscriptions are: the store the runner started, or the one the settings name. */
interface StoreConnection {
  readonly endpoint: string;
  /** An account key (the embedded store, the emulator); none: the app's credential. */
  readonly key: string | undefined;
  readonly database: string;
  readonly container: string;
}

/**
 * Hands the app its settings. The app runs in this process, as the worker runs beside the Functions host, and reads
 * its settings from its environment as the worker does: this is the environment the host would start the worker
 * with, written once, before the app is loaded. The runner itself reads only its typed settings.
 */
function provideAppSettings(settings: Readonly<Record<string, string | undefined>>): void {
  for (const [name, value] of Object.entries(settings)) {
    if (value !== undefined && process.env[name] !== value) process.env[name] = value;
  }
}

async function start(started: { close(): Promise<void> }[], stopping: () => boolean): Promise<void> {
  // The app to serve: the script root, as the Functions host names it (this repository unless told otherwise).
  const appRoot = process.env.AzureWebJobsScriptRoot ?? PROJECT_ROOT;
  const given = readAppSettings(process.env, appRoot);
  const settings = readRunnerSettings(given.values, appRoot);
  const keys = await ensureDevKeys(devDir(given.values));
  // The development key signs validation tokens, unless a Key Vault key is named or the run plays Azure (which
  // refuses a key file, as it refuses AUTH_JWKS_FILE).
  const notificationSigningKey =
    given.values.NOTIFICATION_SIGNING_KEY_ID || given.values.WEBSITE_SITE_NAME
      ? undefined
      : (given.values.NOTIFICATION_SIGNING_KEY_FILE ?? (await ensureNotificationSigningKey(devDir(given.values))));
  const log = (level: string, message: string) => {
    if (level === "error" || level === "critical") console.error(`[${level}] ${message}`);
    else if (level === "warning" && settings.logLevel !== "error") console.error(`[${level}] ${message}`);
    else if (settings.logLevel === "debug") console.log(`[${level}] ${message}`);
  };
  // A misspelt runner setting is a warning here; the app warns about its own settings when it loads (index.ts).
  const runnerSettings = RUNNER_SETTINGS.map((s) => s.name);
  for (const warning of misspeltSettings(Object.keys(given.values), runnerSettings, APP_SETTING_NAMES)) {
    log("warning", warning);
  }

  // The data folder is this runner's alone until it exits (released last, after the store has saved its data).
  const folder = settings.dataDir ? await holdDataFolder(settings.dataDir, log) : undefined;
  if (folder) started.push(folder);

  let embedded: EmbeddedCosmos | undefined;
  if (!given.values.COSMOS_ENDPOINT) {
    embedded = await startEmbeddedCosmos(settings.cosmosPort, "127.0.0.1", {
      dataFile: settings.dataDir ? join(settings.dataDir, "store.json") : undefined,
      changeFeed: settings.triggers,
      log,
    }).catch((error: unknown) => {
      throw portTaken(error, "COSMOS_PORT", settings.cosmosPort);
    });
    started.push(embedded);
  } else {
    const warning = await storeWarning(given.values.COSMOS_ENDPOINT, given.fromLocalSettings.has("COSMOS_ENDPOINT"));
    if (warning) console.error(`[warning] ${warning}`);
  }
  const store: StoreConnection = {
    endpoint: embedded?.endpoint ?? given.values.COSMOS_ENDPOINT!,
    key: embedded ? embedded.key : given.values.COSMOS_KEY,
    database: given.values.COSMOS_DATABASE ?? COSMOS_DEFAULTS.database,
    container: given.values.COSMOS_CONTAINER ?? COSMOS_DEFAULTS.container,
  };
  const subscriptionsContainer = given.values.COSMOS_SUBSCRIPTIONS_CONTAINER ?? COSMOS_DEFAULTS.subscriptionsContainer;
  if (store.key) {
    await ensureLocalContainer(store.endpoint, store.key, store.database, store.container);
    await ensureLocalContainer(store.endpoint, store.key, store.database, subscriptionsContainer, "subscriptions");
  }

  // Storage for queue triggers and outputs: Azurite unless AzureWebJobsStorage names an account.
  let azurite: Azurite | undefined;
  const storageSetting = given.values.AzureWebJobsStorage;
  if (settings.queues && (!storageSetting || storageSetting === "UseDevelopmentStorage=true")) {
    azurite = await startAzuriteQueue(
      settings.azuriteQueuePort,
      settings.dataDir ? join(settings.dataDir, "azurite") : undefined,
    ).catch((error: unknown) => {
      throw portTaken(error, "AZURITE_QUEUE_PORT", settings.azuriteQueuePort);
    });
    started.push(azurite);
  }
  if (stopping()) return;

  // The app's settings: those given, and what the local host provides (the development identity, plain-http
  // receivers on loopback, which are never allowed in Azure, the store and the queues' storage account).
  const appSettings: Record<string, string | undefined> = {
    ...given.values,
    AUTH_AUDIENCES: given.values.AUTH_AUDIENCES ?? DEV_AUDIENCE,
    AUTH_TENANTS: given.values.AUTH_TENANTS ?? "*",
    SUBSCRIPTION_ALLOW_LOOPBACK: given.values.SUBSCRIPTION_ALLOW_LOOPBACK ?? "true",
    AUTH_JWKS_FILE: given.values.AUTH_JWKS_URI
      ? given.values.AUTH_JWKS_FILE
      : (given.values.AUTH_JWKS_FILE ?? keys.jwksFile),
    NOTIFICATION_SIGNING_KEY_FILE: notificationSigningKey,
    COSMOS_ENDPOINT: store.endpoint,
    COSMOS_KEY: store.key,
    COSMOS_DATABASE: store.database,
    COSMOS_CONTAINER: store.container,
    COSMOS_SUBSCRIPTIONS_CONTAINER: store.key ? subscriptionsContainer : given.values.COSMOS_SUBSCRIPTIONS_CONTAINER,
    AzureWebJobsStorage: azurite?.connectionString ?? storageSetting,
  };
  provideAppSettings(appSettings);

  setWorkerLog(log);
  const outputs = new QueueOutputs(settings.queues ? appSettings.AzureWebJobsStorage : undefined, appRoot, appSettings);
  const certificate = settings.https ? await ensureDevCertificate(devDir(given.values)) : undefined;
  const local = await startLocalServer({
    port: settings.port,
    projectRoot: appRoot,
    settings: appSettings,
    outputs,
    log,
    debug: settings.logLevel === "debug",
    ...(certificate ? { tls: certificate } : {}),
  }).catch((error: unknown) => {
    throw portTaken(error, "PORT", settings.port);
  });
  folder?.setPort(Number(new URL(local.baseUrl).port));
  // Closed in reverse: the API drains first, then the triggers, the app's appTerminate hooks (which send buffered
  // telemetry), Azurite, and last the store, which saves its data once nothing can change it any more.
  started.push({
    close: () => terminateApp().catch((error: unknown) => log("error", `appTerminate hook failed: ${String(error)}`)),
  });
  const triggers = await startTriggers({
    projectRoot: appRoot,
    settings: appSettings,
    functions: settings.triggers ? await loadFunctionApp(appRoot) : [],
    outputs,
    cosmos: store.key ? { ...store, key: store.key } : undefined,
    changeFeed: embedded?.changeFeed,
    log,
  });
  started.push(triggers, local);
  if (stopping()) return;

  const base = local.baseUrl;
  const where = (dir: string) => {
    const near = relative(process.cwd(), dir);
    return near === "" ? "." : near.startsWith("..") ? dir : near;
  };
  const setting = (expression: string) => resolveSetting(expression, appSettings);
  console.log(`Team Operations API listening on ${base}`);
  console.log(
    `  store:  ${embedded ? `embedded Cosmos DB server at ${embedded.endpoint}` : store.endpoint}` +
      (embedded && settings.dataDir
        ? `, data in ${where(join(settings.dataDir, "store.json"))} (${embedded.restored} documents restored)`
        : embedded
          ? ", in memory (LOCAL_PERSISTENCE=off)"
          : ""),
  );
  if (settings.queues) {
    console.log(
      `  queues: ${setting("%OPERATIONS_INBOX_QUEUE%")} -> ${setting("%OPERATION_EVENTS_QUEUE%")} on ` +
        (azurite
          ? `Azurite at 127.0.0.1:${azurite.port}${settings.dataDir ? `, data in ${where(join(settings.dataDir, "azurite"))}` : ""}`
          : "AzureWebJobsStorage"),
    );
    if (azurite) console.log(`          AzureWebJobsStorage="${azurite.connectionString}"`);
  } else {
    console.log("  queues: off");
  }
  if (settings.dataDir)
    console.log(`  data:   ${where(settings.dataDir)} (npm run reset, while stopped, starts empty)`);
  if (certificate) {
    console.log(`  https:  the development certificate ${where(certificate.certFile)}: trust it (docs/sdks.md)`);
  }
  console.log(`  health: curl ${base}/health`);
  console.log(`  token:  TOKEN=$(npm run --silent token -- --groups $TEAM)   # a member of that team`);
  console.log(
    `          TOKEN=$(npm run --silent token -- --app)            # an application: any team (--help for more)`,
  );
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  void main();
}
