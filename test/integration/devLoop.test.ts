/**
 * `npm run dev` in a copy of the project (a git repository of its own): a source edited by a rename (as vim, sed -i
 * and most editors save), in place, and by `git checkout` is each served after its rebuild, and `npm run token` asked
 * for during a rebuild waits for that build instead of starting a second one.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BUILD_INPUTS, BUILD_OUTPUTS, buildIsStale } from "../../scripts/prepare-local.js";
import { PROJECT_ROOT } from "../support/stack.js";

const run = promisify(execFile);
const SOURCE = "shared/api/health.ts";
/** The longest a rebuild and restart may take on a loaded machine before the edit counts as missed. */
const SERVED_WITHIN_MS = 240_000;

let copy: string;
let dev: ChildProcess;
let printed = "";
let baseUrl: string;

const git = (...args: string[]) =>
  run("git", ["-c", "user.name=dev", "-c", "user.email=dev@example.com", ...args], { cwd: copy });

async function until<T>(what: string, probe: () => Promise<T | undefined>, within = SERVED_WITHIN_MS): Promise<T> {
  const deadline = Date.now() + within;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${within / 1000} s. npm run dev printed:\n${printed}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Waits until /health answers with this status text: the edited source is what the server runs. */
async function served(status: string): Promise<void> {
  await until(`"${status}" served`, async () => {
    const response = await fetch(`${baseUrl}/health`);
    const body = (await response.json()) as { status: string };
    return body.status === status ? true : undefined;
  });
}

/** The source with its health status text replaced. */
function healthSaying(status: string): string {
  const original = readFileSync(join(PROJECT_ROOT, SOURCE), "utf8");
  const edited = original.replace('up ? "healthy"', `up ? ${JSON.stringify(status)}`);
  expect(edited).not.toBe(original);
  return edited;
}

beforeAll(async () => {
  copy = mkdtempSync(join(tmpdir(), "teamops-dev-loop-"));
  for (const path of [...BUILD_INPUTS, "scripts", "dist", "dist-bundle"]) {
    cpSync(join(PROJECT_ROOT, path), join(copy, path), { recursive: true });
  }
  symlinkSync(join(PROJECT_ROOT, "node_modules"), join(copy, "node_modules"), "dir");
  // The copied build is the build of the copied sources: newer than every one of them.
  const now = new Date();
  for (const output of BUILD_OUTPUTS) utimesSync(join(copy, output), now, now);
  expect(buildIsStale(copy)).toBe(false);
  writeFileSync(join(copy, ".gitignore"), "node_modules\ndist/\ndist-bundle/\n.dev/\n");
  await git("init", "--quiet");
  await git("add", ".");
  await git("commit", "--quiet", "-m", "copy");

  dev = spawn(process.execPath, ["scripts/dev.js"], {
    cwd: copy,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      PORT: "0",
      LOCAL_QUEUES: "off",
      LOCAL_TRIGGERS: "off",
      LOCAL_PERSISTENCE: "off",
      TEAMOPS_DEV_DIR: join(copy, ".dev"),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  dev.stdout!.on("data", (chunk: Buffer) => (printed += chunk.toString()));
  dev.stderr!.on("data", (chunk: Buffer) => (printed += chunk.toString()));
  baseUrl = await until("the runner listening", async () => /listening on (http:\/\/\S+)/.exec(printed)?.[1], 120_000);
  await served("healthy");
}, 300_000);

afterAll(async () => {
  if (dev && dev.exitCode === null) {
    const exited = new Promise((resolve) => dev.once("exit", resolve));
    dev.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    if (dev.exitCode === null) dev.kill("SIGKILL");
  }
  if (copy) rmSync(copy, { recursive: true, force: true });
}, 30_000);

it(
  "serves an edit saved by a rename, then one saved in place, then one undone by git checkout",
  async () => {
    // Replaced by a rename: a new file, a new inode, as editors and sed -i write.
    const temporary = join(copy, `${SOURCE}.swp`);
    writeFileSync(temporary, healthSaying("healthy-renamed"));
    renameSync(temporary, join(copy, SOURCE));
    await served("healthy-renamed");

    // Then written in place, into the file that replaced the first.
    writeFileSync(join(copy, SOURCE), healthSaying("healthy-in-place"));
    await served("healthy-in-place");

    // Then put back as committed.
    await git("checkout", "--", SOURCE);
    await served("healthy");
  },
  3 * SERVED_WITHIN_MS,
);

it(
  "has npm run token wait for the rebuild that is running instead of building too",
  async () => {
    const rebuilds = () => printed.match(/dev: a source changed; rebuilding/g)?.length ?? 0;
    const before = rebuilds();
    writeFileSync(join(copy, SOURCE), healthSaying("healthy-again"));
    await until("a rebuild", async () => (rebuilds() > before ? true : undefined), 30_000);
    const { stdout, stderr } = await run("npm", ["run", "--silent", "token", "--", "--app"], {
      cwd: join(copy, "shared"),
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", TEAMOPS_DEV_DIR: join(copy, ".dev") },
      timeout: SERVED_WITHIN_MS,
    });
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(stderr).toContain("Waiting for the build another command is running");
    expect(stderr).not.toContain("Building");
    await served("healthy-again");
  },
  2 * SERVED_WITHIN_MS,
);
