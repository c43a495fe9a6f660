/**
 * Starts the real parts for an integration test: the embedded Cosmos DB
 * server (in this process, so the test can read the store through
 * `@azure/cosmos`) and the local runner (a child process, `node
 * dist/local/runner.js`, exactly what `npm start` runs), both on free
 * loopback ports, and stops them afterwards.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CosmosClient, type Container } from "@azure/cosmos";
import { startAzuriteQueue, type Azurite } from "../../local/azurite.js";
import { ensureDevKeys, mintDevToken, type DevKeys, type TokenOptions } from "../../local/devIdentity.js";
import { ensureLocalContainer, startEmbeddedCosmos, type EmbeddedCosmos } from "../../local/embeddedCosmos.js";
import { cosmosClientOptions } from "../../shared/store/cosmos.js";
import { COSMOS_DEFAULTS } from "../../shared/config.js";

export const PROJECT_ROOT = resolve(import.meta.dirname, "..", "..");

export interface Stack {
  readonly baseUrl: string;
  readonly container: Container;
  readonly devDir: string;
  token(options?: TokenOptions): Promise<string>;
  /** Every stored document, for checking what a request did (or did not) store. */
  documents(): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
  /** Everything the runner printed, for diagnosing a failure. */
  output(): string;
  /** Stops the runner and starts another over the same store and keys, with these settings changed (baseUrl moves). */
  restart(env: Record<string, string>): Promise<void>;
}

export interface StackOptions {
  readonly env?: Record<string, string>;
  /** Where the runner reaches the store, given the embedded server's endpoint (e.g. a fault proxy in front of it). */
  readonly cosmosEndpointFor?: (embeddedEndpoint: string) => string | Promise<string>;
}

/** A local runner child process, as `npm start` runs it, with everything it printed. */
export interface Runner {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  /** Everything the runner printed on stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  stop(): Promise<void>;
}

/** Starts `node dist/local/runner.js` with exactly this environment (plus PATH) and waits for its whole banner. */
export async function spawnRunner(env: Record<string, string | undefined>): Promise<Runner> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, "dist/local/runner.js")], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? "", PORT: "0", AZURITE_QUEUE_PORT: "0", LOCAL_PERSISTENCE: "off", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let printed = "";
  child.stdout.on("data", (chunk: Buffer) => (printed += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (printed += chunk.toString()));
  const output = () => printed;
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  };
  try {
    const baseUrl = await new Promise<string>((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`runner did not start:\n${output()}`)), 60_000);
      child.stdout.on("data", () => {
        // The banner's last line is the token hint: wait for all of it.
        const match = /listening on (https?:\/\/\S+)[\s\S]*token:/.exec(output());
        if (match?.[1]) {
          clearTimeout(timer);
          resolvePromise(match[1]);
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`runner exited with ${code}:\n${output()}`));
      });
    });
    return { child, baseUrl, output, stop };
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const devDir = mkdtempSync(join(tmpdir(), "teamops-dev-"));
  const keys: DevKeys = await ensureDevKeys(devDir);
  const cosmos: EmbeddedCosmos = await startEmbeddedCosmos();
  const database = COSMOS_DEFAULTS.database;
  const containerName = COSMOS_DEFAULTS.container;
  await ensureLocalContainer(cosmos.endpoint, cosmos.key, database, containerName);
  const client = new CosmosClient({
    endpoint: cosmos.endpoint,
    key: cosmos.key,
    ...cosmosClientOptions(cosmos.endpoint),
  });
  const container = client.database(database).container(containerName);

  const runnerEndpoint = options.cosmosEndpointFor ? await options.cosmosEndpointFor(cosmos.endpoint) : cosmos.endpoint;
  let runnerEnv: Record<string, string> = {
    COSMOS_ENDPOINT: runnerEndpoint,
    COSMOS_KEY: cosmos.key,
    COSMOS_DATABASE: database,
    COSMOS_CONTAINER: containerName,
    TEAMOPS_DEV_DIR: devDir,
    LOCAL_QUEUES: "off",
    ...options.env,
  };
  let runner: Runner;
  try {
    runner = await spawnRunner(runnerEnv);
  } catch (error) {
    await cosmos.close();
    throw error;
  }

  return {
    get baseUrl() {
      return runner.baseUrl;
    },
    container,
    devDir,
    token: (tokenOptions) => mintDevToken(tokenOptions, keys),
    documents: async () => (await container.items.readAll<Record<string, unknown>>().fetchAll()).resources,
    output: () => runner.output(),
    restart: async (env) => {
      await runner.stop();
      runnerEnv = { ...runnerEnv, ...env };
      runner = await spawnRunner(runnerEnv);
    },
    stop: async () => {
      await runner.stop();
      client.dispose();
      await cosmos.close();
      rmSync(devDir, { recursive: true, force: true });
    },
  };
}

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A loopback port held by a listener until released: for what a command does when its port is taken. */
export async function holdPort(): Promise<{ readonly port: number; release(): Promise<void> }> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { port, release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A stack whose runner works its queues, on an Azurite of its own; `stop` stops both. */
export interface QueuedStack extends Stack {
  readonly azurite: Azurite;
}

/**
 * The stack change notifications need: queues on an Azurite of its own (a free port), loopback receivers allowed,
 * with these settings besides.
 */
export async function startQueuedStack(env: Record<string, string> = {}): Promise<QueuedStack> {
  const azurite = await startAzuriteQueue(await freePort());
  let stack: Stack;
  try {
    stack = await startStack({
      env: {
        LOCAL_QUEUES: "on",
        AzureWebJobsStorage: azurite.connectionString,
        SUBSCRIPTION_ALLOW_LOOPBACK: "true",
        ...env,
      },
    });
  } catch (error) {
    await azurite.close();
    throw error;
  }
  return {
    get baseUrl() {
      return stack.baseUrl;
    },
    container: stack.container,
    devDir: stack.devDir,
    azurite,
    token: (options) => stack.token(options),
    documents: () => stack.documents(),
    output: () => stack.output(),
    restart: (changed) => stack.restart(changed),
    stop: async () => {
      await stack.stop();
      await azurite.close();
    },
  };
}
