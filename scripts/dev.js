// `npm run dev`: the local runner, rebuilt and restarted whenever a source changes. The ports stay the same across
// restarts (a PORT or AZURITE_QUEUE_PORT of 0 is resolved once, at the start), and so does the data (the runner keeps
// it in LOCAL_DATA_DIR and saves it when it stops). A build that fails leaves the running server as it was.
import { spawn, spawnSync } from "node:child_process";
import { watch } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { BUILD_INPUTS, buildIsStale } from "./prepare-local.js";

const root = resolve(import.meta.dirname, "..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

function build() {
  const started = performance.now();
  const result = spawnSync(npm, ["run", "--silent", "build"], { cwd: root, stdio: ["ignore", 2, 2] });
  return { ok: result.status === 0, seconds: (performance.now() - started) / 1000 };
}

const env = { ...process.env };
for (const name of ["PORT", "AZURITE_QUEUE_PORT"]) {
  if (env[name]?.trim() === "0") env[name] = String(await freePort());
}

let runner;
let stopping = false;

function startRunner() {
  runner = spawn(process.execPath, [join(root, "dist/local/runner.js")], { cwd: root, env, stdio: "inherit" });
  runner.once("exit", (code, signal) => {
    if (stopping) process.exit(code ?? 0);
    if (!restarting) console.error(`dev: the runner exited (${signal ?? code}); it restarts after the next change.`);
    runner = undefined;
  });
}

function stopRunner() {
  if (!runner || runner.exitCode !== null) return Promise.resolve();
  const exited = new Promise((done) => runner.once("exit", done));
  runner.kill("SIGTERM");
  return exited;
}

let restarting = false;
let pending;
async function rebuildAndRestart(changed) {
  if (restarting || stopping) return;
  restarting = true;
  console.error(`dev: ${changed} changed; rebuilding ...`);
  const { ok, seconds } = build();
  if (!ok) {
    console.error(`dev: the build failed after ${seconds.toFixed(1)} s; the running server is unchanged.`);
  } else {
    await stopRunner();
    console.error(`dev: rebuilt in ${seconds.toFixed(1)} s; restarting`);
    if (!stopping) startRunner();
  }
  restarting = false;
}

if (buildIsStale(root) && !build().ok) process.exit(1);
startRunner();

for (const input of BUILD_INPUTS.filter((path) => !path.endsWith(".json") || path === "host.json")) {
  try {
    watch(join(root, input), { recursive: true }, (_event, file) => {
      clearTimeout(pending);
      pending = setTimeout(() => void rebuildAndRestart(file ? join(input, String(file)) : input), 300);
    });
  } catch {
    // A source that does not exist (yet) is not watched.
  }
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    clearTimeout(pending);
    if (!runner || runner.exitCode !== null) process.exit(0);
    runner.kill(signal);
  });
}
