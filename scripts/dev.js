// `npm run dev`: the local runner, rebuilt and restarted whenever a source changes.
//
// Changes are found by asking, every POLL_MS, whether the build is older than its sources (scripts/build.js): the
// question `npm start` and `npm run token` ask too. A file saved in place, replaced by a rename (vim, sed -i,
// git checkout) or added is seen alike, where a file watcher can lose a file once it has been replaced. Builds take
// the build lock, so a `npm run token` during a rebuild waits for it instead of building too, and a build another
// command made restarts the runner as one made here does. The ports stay the same across restarts (a PORT or
// AZURITE_QUEUE_PORT of 0 is resolved once, at the start), and so does the data (the runner keeps it in
// LOCAL_DATA_DIR and saves it when it stops). A build that fails leaves the running server as it was, until the next
// change.
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { build, buildIsStale, newestSourceTime } from "./build.js";

const root = resolve(import.meta.dirname, "..");
const POLL_MS = 1_000;

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

/** When the build the local commands run was last made (the start of that build); 0 when there is none. */
function builtAt() {
  const stamp = join(root, "dist/.build");
  return existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
}

const env = { ...process.env };
for (const name of ["PORT", "AZURITE_QUEUE_PORT"]) {
  if (env[name]?.trim() === "0") env[name] = String(await freePort());
}

let runner;
let runnerBuiltAt = 0;
let stopping = false;

function startRunner() {
  runnerBuiltAt = builtAt();
  const child = spawn(process.execPath, [join(root, "dist/local/runner.js")], { cwd: root, env, stdio: "inherit" });
  runner = child;
  child.once("exit", (code, signal) => {
    if (stopping) process.exit(code ?? 0);
    if (runner === child) {
      console.error(`dev: the runner exited (${signal ?? code}); it restarts after the next change.`);
      runner = undefined;
    }
  });
}

function stopRunner() {
  const child = runner;
  runner = undefined;
  if (!child || child.exitCode !== null) return Promise.resolve();
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGTERM");
  return exited;
}

// The sources as they were when a build last failed: not built again until one of them changes.
let failedSources = 0;

async function poll() {
  if (buildIsStale(root) && newestSourceTime(root) > failedSources) {
    const sources = newestSourceTime(root);
    const started = performance.now();
    console.error("dev: a source changed; rebuilding ...");
    const ok = await build({ ifStale: true });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (!ok) {
      failedSources = sources;
      console.error(`dev: the build failed after ${seconds} s; the running server is unchanged.`);
      return;
    }
    console.error(`dev: built in ${seconds} s`);
  }
  if (stopping || builtAt() === runnerBuiltAt) return;
  if (runner) {
    console.error("dev: restarting on the new build");
    await stopRunner();
  }
  if (!stopping) startRunner();
}

async function loop() {
  while (!stopping) {
    await poll().catch((error) => console.error(`dev: ${error instanceof Error ? error.message : String(error)}`));
    await new Promise((done) => setTimeout(done, POLL_MS));
  }
}

if (!(await build({ ifStale: true, reason: "Building (the build is missing or older than its sources) ..." }))) {
  process.exit(1);
}
startRunner();
void loop();

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    if (!runner || runner.exitCode !== null) process.exit(0);
    runner.kill(signal);
  });
}
