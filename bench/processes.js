// Starting and stopping the servers the end-to-end bench drives, and what they use.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used, in µs. */
export function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SECOND;
}

/** Spawns `node args...` and resolves once a line of its stdout matches `ready`. */
export function startNode(args, { env = {}, ready, timeoutMs = 30_000 } = {}) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${args[0]} did not start in time`)), timeoutMs);
    const fail = (error) => {
      clearTimeout(timer);
      child.kill();
      reject(new Error(`${error.message}\n${stderr}`));
    };
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match, stop: () => stop(child), stderr: () => stderr });
      }
    });
    child.once("exit", (code) => fail(new Error(`${args[0]} exited with ${code}`)));
  });
}

function stop(child) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners("exit");
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 3000).unref();
  });
}

/** The embedded store in a process of its own, on a free port (`script`: another store, such as the scale one). */
export function startStore(script = "dist/local/store.js") {
  return startNode([join(root, script)], {
    env: { COSMOS_PORT: "0" },
    ready: /Embedded Cosmos DB server at (\S+)/,
  });
}

/** The settings that point the app at the store at `endpoint` (the embedded one, or a proxy in front of it). */
export async function storeEnv(endpoint) {
  const { LOCAL_COSMOS_KEY } = await import("../dist/local/embeddedCosmos.js");
  return {
    COSMOS_ENDPOINT: endpoint,
    COSMOS_KEY: LOCAL_COSMOS_KEY,
    COSMOS_DATABASE: "teamops",
    COSMOS_CONTAINER: "operations",
  };
}

/**
 * The local runner as the benches run it: on the store at `endpoint`, tokens from the keys in `devDir`, HTTP only (the
 * runner's change-feed emulation polls the store, which the deployed app never does), nothing kept, so that several
 * run side by side.
 */
export async function benchRunnerEnv(endpoint, devDir) {
  return {
    ...(await storeEnv(endpoint)),
    PORT: "0",
    TEAMOPS_DEV_DIR: devDir,
    AUTH_JWKS_URI: "",
    LOCAL_TRIGGERS: "off",
    LOCAL_PERSISTENCE: "off",
  };
}
