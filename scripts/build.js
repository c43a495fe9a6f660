// The build: tsc, then the bundle (scripts/bundle.js). One at a time per project: `npm run build`, `npm start`,
// `npm run dev` and `npm run token` all build through here, and a second caller waits for the build that is running
// instead of starting its own (then builds only if that one left the build stale).
//
//   node scripts/build.js                 build
//   node scripts/build.js --if-stale      build only when the build is missing or older than its sources
//   node scripts/build.js --installed     only check that `npm ci` has run
//
// Everything goes to stderr, so `TOKEN=$(npm run --silent token)` still captures just the token. Only Node.js's own
// modules are imported before the dependencies are known to be installed, so that a clone without node_modules is
// told to run `npm ci` rather than fail on a missing module.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const root = resolve(import.meta.dirname, "..");

/** What the build reads (files and folders below the project root). */
export const BUILD_INPUTS = [
  "index.ts",
  "functions",
  "shared",
  "local",
  "scripts/bundle.js",
  "scripts/bundle-options.js",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "tsconfig.build.json",
  "host.json",
];
/**
 * What the build writes that the local commands run, and its stamp: a file whose time is when the last successful
 * build started, so that a source changed while a build ran makes that build stale.
 */
export const BUILD_OUTPUTS = ["dist-bundle/index.js", "dist/local/runner.js", "dist/local/token.js", "dist/.build"];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  // A folder's own time changes when a file in it is replaced by a rename (editors, git), whatever the file's time.
  return readdirSync(path).reduce((newest, entry) => Math.max(newest, newestMtime(join(path, entry))), stat.mtimeMs);
}

/** The time of the newest change to the build's sources. */
export function newestSourceTime(projectRoot = root) {
  return Math.max(...BUILD_INPUTS.map((input) => newestMtime(join(projectRoot, input))));
}

/** Whether the build is missing, or older than any of its sources. */
export function buildIsStale(projectRoot = root) {
  const outputs = BUILD_OUTPUTS.map((file) => join(projectRoot, file));
  if (outputs.some((file) => !existsSync(file))) return true;
  const oldestOutput = Math.min(...outputs.map((file) => statSync(file).mtimeMs));
  return newestSourceTime(projectRoot) > oldestOutput;
}

/** Refuses to go on without the dependencies, saying what to run. */
export function checkInstalled(projectRoot = root) {
  if (!existsSync(join(projectRoot, "node_modules", ".package-lock.json"))) {
    throw new Error(
      "The dependencies are not installed (there is no node_modules folder): run npm ci first, " +
        "then this command again.",
    );
  }
}

function run(args, projectRoot) {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: projectRoot, stdio: ["ignore", 2, 2] });
    child.once("error", fail);
    child.once("exit", (code, signal) => done(code === 0 && signal === null));
  });
}

async function compile(projectRoot) {
  const started = new Date();
  const ok =
    (await run([join(projectRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], projectRoot)) &&
    (await run([join(projectRoot, "scripts/bundle.js")], projectRoot));
  if (ok) {
    const stamp = join(projectRoot, "dist/.build");
    writeFileSync(stamp, `${started.toISOString()}\n`);
    utimesSync(stamp, started, started);
  }
  return ok;
}

/**
 * Runs `work` holding the project's build lock; while another process holds it, says so and waits. A holder that
 * died leaves a lock that goes stale (it is refreshed every few seconds while held) and is then taken over.
 */
export async function withBuildLock(work, projectRoot = root) {
  const { default: lockfile } = await import("proper-lockfile");
  mkdirSync(join(projectRoot, "dist"), { recursive: true });
  const options = {
    lockfilePath: join(projectRoot, "dist", ".build.lock"),
    realpath: false,
    stale: 20_000,
    update: 4_000,
    onCompromised: (error) => process.stderr.write(`build lock: ${error.message}\n`),
  };
  let release;
  try {
    release = await lockfile.lock(projectRoot, { ...options, retries: 0 });
  } catch (error) {
    if (error.code !== "ELOCKED") throw error;
    process.stderr.write("Waiting for the build another command is running ...\n");
    release = await lockfile.lock(projectRoot, {
      ...options,
      retries: { forever: true, factor: 1, minTimeout: 200, maxTimeout: 200 },
    });
  }
  try {
    return await work();
  } finally {
    await release().catch(() => undefined);
  }
}

/**
 * Builds (or, with `ifStale`, builds only a stale build), one build at a time. Resolves to whether the build is
 * good: true when it built, or had nothing to build.
 */
export async function build({ ifStale = false, projectRoot = root, reason } = {}) {
  checkInstalled(projectRoot);
  return withBuildLock(async () => {
    if (ifStale && !buildIsStale(projectRoot)) return true;
    if (reason) process.stderr.write(`${reason}\n`);
    return compile(projectRoot);
  }, projectRoot);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { values } = parseArgs({ options: { "if-stale": { type: "boolean" }, installed: { type: "boolean" } } });
  try {
    if (values.installed) checkInstalled();
    else if (!(await build({ ifStale: values["if-stale"] }))) process.exitCode = 1;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
