// Runs before the local commands (npm start, npm run token, npm run start:func): builds only when the build is
// missing or older than its sources, and refuses at once what would fail later, before touching the build.
//
//   node scripts/prepare-local.js [--port] [--func]
//     --port   the API's port (PORT, default 7071) must be free: a second `npm start` stops here, with the setting
//              that moves it, instead of rebuilding under the running server and then failing
//     --func   Azure Functions Core Tools (`func`) must be on PATH
//     --reset  delete the local data (LOCAL_DATA_DIR, default .local/) instead of building; refused while the API runs
//
// Build output goes to stderr, so `TOKEN=$(npm run --silent token)` still captures just the token.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { parseArgs } from "node:util";

const root = resolve(import.meta.dirname, "..");

/** What the build reads, and what it writes that the local commands run. */
export const BUILD_INPUTS = [
  "index.ts",
  "functions",
  "shared",
  "local",
  "scripts/bundle.js",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "tsconfig.build.json",
  "host.json",
];
export const BUILD_OUTPUTS = ["dist-bundle/index.js", "dist/local/runner.js", "dist/local/token.js"];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, entry) => Math.max(newest, newestMtime(join(path, entry))), stat.mtimeMs);
}

/** Whether the build is missing or older than any of its sources. */
export function buildIsStale(projectRoot = root) {
  const outputs = BUILD_OUTPUTS.map((file) => join(projectRoot, file));
  if (outputs.some((file) => !existsSync(file))) return true;
  const oldestOutput = Math.min(...outputs.map((file) => statSync(file).mtimeMs));
  return BUILD_INPUTS.some((input) => newestMtime(join(projectRoot, input)) > oldestOutput);
}

/** The port the runner will listen on, checked as the runner checks it. */
export function apiPort(env = process.env) {
  const raw = env.PORT ?? "7071";
  const port = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || port > 65535) {
    throw new Error(`PORT must be a port number from 0 to 65535, not "${raw}".`);
  }
  return port;
}

function portIsFree(port) {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", () => done(false));
    server.listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
}

function onPath(command) {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}

async function main() {
  const { values } = parseArgs({
    options: { port: { type: "boolean" }, func: { type: "boolean" }, reset: { type: "boolean" } },
  });
  if (values.func && !onPath("func")) {
    throw new Error(
      "npm run start:func needs Azure Functions Core Tools (func) on PATH: " +
        "https://learn.microsoft.com/azure/azure-functions/functions-run-local. Without it, npm start serves the same functions.",
    );
  }
  if (values.reset) {
    const port = apiPort();
    if (port !== 0 && !(await portIsFree(port))) {
      throw new Error(`Port ${port} is taken: stop the running API (npm start) before npm run reset.`);
    }
    const setting = process.env.LOCAL_DATA_DIR?.trim() || ".local";
    const dir = isAbsolute(setting) ? setting : join(root, setting);
    rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`Removed the local data in ${dir}: the next npm start begins empty.\n`);
    return;
  }
  if (values.port) {
    const port = apiPort();
    if (port !== 0 && !(await portIsFree(port))) {
      throw new Error(
        `Port ${port} on 127.0.0.1 is taken (is the API already running?). Stop that, or set PORT to another port.`,
      );
    }
  }
  if (buildIsStale()) {
    process.stderr.write("Building (the build is missing or older than its sources) ...\n");
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const build = spawnSync(npm, ["run", "--silent", "build"], { cwd: root, stdio: ["ignore", 2, 2] });
    if (build.status !== 0) process.exit(build.status ?? 1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
