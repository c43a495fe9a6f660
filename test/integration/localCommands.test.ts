/**
 * What runs before `npm start`, `npm run token` and `npm run start:func`
 * (scripts/prepare-local.js): it builds only what is stale, refuses a taken
 * port before touching the build, and says what `start:func` needs. The
 * build-from-nothing case runs in a copy of the project, so the tree the
 * other tests use is never without its build.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILD_INPUTS, BUILD_OUTPUTS, buildIsStale } from "../../scripts/prepare-local.js";
import { holdPort, PROJECT_ROOT, spawnRunner } from "../support/stack.js";

const run = promisify(execFile);
const prepare = join(PROJECT_ROOT, "scripts/prepare-local.js");

let taken: Awaited<ReturnType<typeof holdPort>>;
let takenPort: number;
beforeAll(async () => {
  taken = await holdPort();
  takenPort = taken.port;
});
afterAll(() => taken.release());

describe("scripts/prepare-local.js", () => {
  it("refuses a taken PORT at once, naming the setting, without touching the build", async () => {
    const before = statSync(join(PROJECT_ROOT, "dist-bundle/index.js")).mtimeMs;
    const refused = run(process.execPath, [prepare, "--port"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, PORT: String(takenPort) },
    });
    await expect(refused).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`Port ${takenPort} on 127.0.0.1 is taken`),
    });
    await expect(refused).rejects.toMatchObject({ stderr: expect.stringContaining("set PORT") });
    expect(statSync(join(PROJECT_ROOT, "dist-bundle/index.js")).mtimeMs).toBe(before);
  });

  it("refuses a PORT that is not a port number, naming it and the value", async () => {
    await expect(
      run(process.execPath, [prepare, "--port"], { cwd: PROJECT_ROOT, env: { ...process.env, PORT: "abc" } }),
    ).rejects.toMatchObject({ code: 1, stderr: 'PORT must be a port number from 0 to 65535, not "abc".\n' });
  });

  it("sees an up-to-date build as such, and one older than a source as stale", () => {
    const copy = mkdtempSync(join(tmpdir(), "teamops-stale-"));
    try {
      for (const path of [...BUILD_INPUTS, ...BUILD_OUTPUTS]) {
        cpSync(join(PROJECT_ROOT, path), join(copy, path), { recursive: true, preserveTimestamps: true });
      }
      const now = Date.now() / 1000;
      for (const output of BUILD_OUTPUTS) utimesSync(join(copy, output), now, now);
      expect(buildIsStale(copy)).toBe(false);
      utimesSync(join(copy, "shared/config.ts"), now + 10, now + 10);
      expect(buildIsStale(copy)).toBe(true);
      rmSync(join(copy, "dist/local/token.js"));
      expect(buildIsStale(copy)).toBe(true);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it("makes `npm run token` work before any build: it builds (on stderr), then prints only the token", async () => {
    const copy = mkdtempSync(join(tmpdir(), "teamops-fresh-"));
    try {
      for (const path of [...BUILD_INPUTS, "scripts"]) {
        cpSync(join(PROJECT_ROOT, path), join(copy, path), { recursive: true });
      }
      symlinkSync(join(PROJECT_ROOT, "node_modules"), join(copy, "node_modules"), "dir");
      const { stdout, stderr } = await run("npm", ["run", "--silent", "token"], {
        cwd: copy,
        env: { ...process.env, TEAMOPS_DEV_DIR: join(copy, ".dev") },
        timeout: 240_000,
      });
      expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
      expect(stderr).toContain("Building");
      expect(buildIsStale(copy)).toBe(false);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 300_000);
});

describe("without node_modules", () => {
  it.each([["start"], ["test"], ["run", "test:unit"], ["run", "token"]])(
    "npm %s says to run npm ci first",
    async (...command) => {
      const clone = mkdtempSync(join(tmpdir(), "teamops-clone-"));
      try {
        for (const path of ["package.json", "scripts"])
          cpSync(join(PROJECT_ROOT, path), join(clone, path), { recursive: true });
        const refused = run("npm", command, {
          cwd: clone,
          env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", PORT: "0" },
          timeout: 60_000,
        });
        await expect(refused).rejects.toMatchObject({
          stderr: expect.stringContaining(
            "The dependencies are not installed (there is no node_modules folder): run npm ci first",
          ),
        });
      } finally {
        rmSync(clone, { recursive: true, force: true });
      }
    },
  );
});

describe("the runner refuses a bad start at once", () => {
  const runner = join(PROJECT_ROOT, "dist/local/runner.js");
  const start = (env: Record<string, string>) =>
    run(process.execPath, [runner], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? "", PORT: "0", LOCAL_PERSISTENCE: "off", LOCAL_QUEUES: "off", ...env },
      timeout: 60_000,
    });

  it.each([
    [{ PORT: "abc" }, 'PORT="abc" is not allowed: a port number from 0 to 65535'],
    [{ AZURITE_QUEUE_PORT: "70000" }, 'AZURITE_QUEUE_PORT="70000" is not allowed'],
    [{ LOG_LEVEL: "verbose" }, 'LOG_LEVEL="verbose" is not allowed: debug, info, warning or error'],
    [{ LOCAL_QUEUES: "no" }, 'LOCAL_QUEUES="no" is not allowed: on or off'],
    [
      { SWEEPER_SCHEDULE: "every 5 minutes" },
      'SWEEPER_SCHEDULE="every 5 minutes" is not allowed: an NCRONTAB schedule',
    ],
  ])("%o", async (env, message) => {
    await expect(start(env)).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining(message) });
  });

  it.each([
    ["PORT", {}],
    ["COSMOS_PORT", {}],
    ["AZURITE_QUEUE_PORT", { LOCAL_QUEUES: "on" }],
  ] as const)("a taken %s, named with the setting that moves it", async (setting, extra) => {
    await expect(start({ [setting]: String(takenPort), ...extra })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`Port ${takenPort} on 127.0.0.1 is taken (${setting})`),
    });
  });
});

describe("a setting that looks misspelt", () => {
  it("is a start-up warning naming the setting it was probably meant to be, the runner's and the app's", async () => {
    const runner = await spawnRunner({ LOCAL_QUEUES: "off", LOCAL_PERSISTANCE: "off", AUTH_TENANT: "*" });
    try {
      expect(runner.output()).toContain(
        "[warning] LOCAL_PERSISTANCE is not a setting (it is ignored): did you mean LOCAL_PERSISTENCE?",
      );
      expect(runner.output()).toContain("AUTH_TENANT is not a setting (it is ignored): did you mean AUTH_TENANTS?");
    } finally {
      await runner.stop();
    }
  });
});
