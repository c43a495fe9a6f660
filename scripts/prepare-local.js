// Runs before the local commands (npm start, npm run dev, npm run token, npm run start:func): refuses at once what
// would fail later, then builds only when the build is missing or older than its sources, one build at a time
// (scripts/build.js: a command that finds another building waits for it).
//
//   node scripts/prepare-local.js [--port] [--func] [--reset]
//     --port   the API's port (PORT, default 7071) must be free: a second `npm start` stops here, with the setting
//              that moves it, instead of rebuilding under the running server and then failing
//     --func   Azure Functions Core Tools must be there: the project's own (the optional dependency), or func on PATH
//     --reset  delete the local data (LOCAL_DATA_DIR, default .local/) instead of building; refused while the API runs
//
// Build output goes to stderr, so `TOKEN=$(npm run --silent token)` still captures just the token.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { build, checkInstalled } from "./build.js";

export { BUILD_INPUTS, BUILD_OUTPUTS, buildIsStale } from "./build.js";

const root = resolve(import.meta.dirname, "..");

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

/** The Core Tools version package.json asks for (the optional dependency), as written there. */
function coreToolsVersion(projectRoot) {
  const pkg = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8"));
  return pkg.optionalDependencies?.["azure-functions-core-tools"] ?? "4";
}

/**
 * The `func` that `npm run start:func` runs: the project's own Core Tools when npm could install them (their install
 * script downloads the Functions host, so they are there only where that download was reachable), else the first
 * func on PATH. Throws, saying exactly what to install, when there is neither.
 */
export function findFunc(projectRoot = root, path = process.env.PATH ?? "") {
  const own = join(projectRoot, "node_modules", "azure-functions-core-tools");
  const host = join(own, "bin", process.platform === "win32" ? "func.exe" : "func");
  if (existsSync(host)) return host;
  const ownBin = join(projectRoot, "node_modules", ".bin");
  const names = process.platform === "win32" ? ["func.cmd", "func.exe"] : ["func"];
  for (const dir of path.split(delimiter)) {
    if (!dir || resolve(dir) === ownBin) continue;
    for (const name of names) if (existsSync(join(dir, name))) return join(dir, name);
  }
  const wanted = `azure-functions-core-tools@${coreToolsVersion(projectRoot)}`;
  throw new Error(
    `npm run start:func needs Azure Functions Core Tools and finds none. npm ci installs them (the optional ` +
      `dependency ${wanted}) only where npm runs on Node.js 22 or later and their install script can download the ` +
      "Functions host from cdn.functions.azure.com, and skipped them here. Run npm ci where both hold, or install " +
      `them yourself so that func is on PATH: npm install --global ${wanted}, or your system's package ` +
      "(https://learn.microsoft.com/azure/azure-functions/functions-run-local). " +
      "Without Core Tools, npm start serves the same functions.",
  );
}

async function main() {
  const { values } = parseArgs({
    options: { port: { type: "boolean" }, func: { type: "boolean" }, reset: { type: "boolean" } },
  });
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
  checkInstalled();
  if (values.func) findFunc();
  if (values.port) {
    const port = apiPort();
    if (port !== 0 && !(await portIsFree(port))) {
      throw new Error(
        `Port ${port} on 127.0.0.1 is taken (is the API already running?). Stop that, or set PORT to another port.`,
      );
    }
  }
  const built = await build({
    ifStale: true,
    reason: "Building (the build is missing or older than its sources) ...",
  });
  if (!built) process.exit(1);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
