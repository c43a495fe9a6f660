/**
 * Local data across restarts, through the runner as `npm start` runs it: the
 * runner is stopped (SIGINT, SIGTERM, a second Ctrl-C, or killed) while
 * clients are creating operations, started again on the same data folder,
 * and every create it acknowledged must be there. And `npm run dev`: a change
 * to a source rebuilds and restarts on the same port, with the same data.
 */
import { spawn } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDevKeys, mintDevToken, type DevKeys } from "../../local/devIdentity.js";
import { BUILD_INPUTS } from "../../scripts/prepare-local.js";
import { TEAM } from "../support/http.js";
import { freePort, PROJECT_ROOT, spawnRunner, type Runner } from "../support/stack.js";

let devDir: string;
let keys: DevKeys;
let token: string;
beforeAll(async () => {
  devDir = mkdtempSync(join(tmpdir(), "teamops-dev-"));
  keys = await ensureDevKeys(devDir);
  token = await mintDevToken({ app: true }, keys);
});
afterAll(() => rmSync(devDir, { recursive: true, force: true }));

function runnerOn(dataDir: string): Promise<Runner> {
  return spawnRunner({
    TEAMOPS_DEV_DIR: devDir,
    LOCAL_PERSISTENCE: "on",
    LOCAL_DATA_DIR: dataDir,
    LOCAL_QUEUES: "off",
  });
}

const create = (baseUrl: string) =>
  fetch(`${baseUrl}/teams/${TEAM}/operations`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ operationType: "cloneTeam" }),
  });

/** Creates operations from `clients` concurrent loops until the server stops answering; the ids it acknowledged. */
function streamOfCreates(baseUrl: string, clients = 4): { acknowledged: string[]; done: Promise<void> } {
  const acknowledged: string[] = [];
  const loops = Array.from({ length: clients }, async () => {
    for (let i = 0; i < 10_000; i++) {
      try {
        const response = await create(baseUrl);
        if (response.status !== 201) return;
        acknowledged.push(((await response.json()) as { id: string }).id);
      } catch {
        return; // connection refused or closed: the server has stopped
      }
    }
  });
  return { acknowledged, done: Promise.all(loops).then(() => undefined) };
}

async function storedIds(baseUrl: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let url: string | undefined = `${baseUrl}/teams/${TEAM}/operations?$select=id&$top=100`;
  while (url) {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const page = (await response.json()) as { value: Array<{ id: string }>; "@odata.nextLink"?: string };
    for (const { id } of page.value) ids.add(id);
    url = page["@odata.nextLink"];
  }
  return ids;
}

const exited = (runner: Runner) =>
  new Promise<number | null>((resolve) => {
    if (runner.child.exitCode !== null) resolve(runner.child.exitCode);
    else runner.child.once("exit", (code) => resolve(code));
  });

describe("local data survives a stop in the middle of a stream of writes", () => {
  it.each([
    ["SIGINT", ["SIGINT"]],
    ["SIGTERM", ["SIGTERM"]],
    ["a second Ctrl-C", ["SIGINT", "SIGINT"]],
  ] as const)("%s: every acknowledged create is there after a restart", async (_name, signals) => {
    const dataDir = mkdtempSync(join(tmpdir(), "teamops-data-"));
    try {
      const first = await runnerOn(dataDir);
      const stream = streamOfCreates(first.baseUrl);
      while (stream.acknowledged.length < 40) await new Promise((r) => setTimeout(r, 20));
      for (const signal of signals) {
        first.child.kill(signal);
        await new Promise((r) => setTimeout(r, 30));
      }
      expect(await exited(first), first.output()).toBe(0);
      await stream.done;

      const second = await runnerOn(dataDir);
      try {
        expect(second.output()).toMatch(/\d+ documents restored/);
        const stored = await storedIds(second.baseUrl);
        const missing = stream.acknowledged.filter((id) => !stored.has(id));
        expect(missing, `${missing.length} of ${stream.acknowledged.length} acknowledged creates lost`).toEqual([]);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("a crash (SIGKILL) leaves a whole snapshot: the restart reads it, and holds only what was acknowledged", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "teamops-data-"));
    try {
      const first = await runnerOn(dataDir);
      const stream = streamOfCreates(first.baseUrl);
      while (stream.acknowledged.length < 40) await new Promise((r) => setTimeout(r, 20));
      // After at least one snapshot has been written.
      while (!existsSync(join(dataDir, "store.json"))) await new Promise((r) => setTimeout(r, 50));
      first.child.kill("SIGKILL");
      await exited(first);
      await stream.done;
      expect(() => JSON.parse(readFileSync(join(dataDir, "store.json"), "utf8")) as unknown).not.toThrow();

      const second = await runnerOn(dataDir);
      try {
        const stored = await storedIds(second.baseUrl);
        const acknowledged = new Set(stream.acknowledged);
        // In-flight creates may have been stored without their answer arriving, so compare with what was sent.
        expect(stored.size).toBeGreaterThan(0);
        expect(stored.size).toBeLessThanOrEqual(acknowledged.size + 4);
        const lost = stream.acknowledged.filter((id) => !stored.has(id)).length;
        console.log(`SIGKILL: ${lost} of ${acknowledged.size} acknowledged creates lost (the last snapshot's age)`);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("npm run dev", () => {
  let copy: string;
  beforeAll(() => {
    // A copy of the project, built, so that changing a source does not touch the tree the other tests run.
    copy = mkdtempSync(join(tmpdir(), "teamops-devloop-"));
    for (const path of [...BUILD_INPUTS, "scripts"])
      cpSync(join(PROJECT_ROOT, path), join(copy, path), { recursive: true });
    for (const path of ["dist", "dist-bundle"]) cpSync(join(PROJECT_ROOT, path), join(copy, path), { recursive: true });
    symlinkSync(join(PROJECT_ROOT, "node_modules"), join(copy, "node_modules"), "dir");
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it("rebuilds and restarts on a change, on the same port and with the same data", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [join(copy, "scripts/dev.js")], {
      cwd: copy,
      env: {
        PATH: process.env.PATH ?? "",
        PORT: String(port),
        TEAMOPS_DEV_DIR: devDir,
        LOCAL_QUEUES: "off",
        LOCAL_DATA_DIR: join(copy, ".local"),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let printed = "";
    child.stdout.on("data", (chunk: Buffer) => (printed += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (printed += chunk.toString()));
    const waitFor = async (pattern: RegExp, count = 1) => {
      for (let i = 0; i < 1800; i++) {
        if ((printed.match(new RegExp(pattern.source, "g")) ?? []).length >= count) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting for ${String(pattern)}:\n${printed}`);
    };
    try {
      const base = `http://127.0.0.1:${port}/v1.0`;
      await waitFor(/token:/);
      expect(printed).toContain(`listening on ${base}`);
      const created = await create(base);
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };

      appendFileSync(join(copy, "shared/config.ts"), "\n// changed\n");
      await waitFor(/dev: restarting on the new build/);
      await waitFor(/token:/, 2);
      expect(printed.match(/listening on (\S+)/g)).toEqual([`listening on ${base}`, `listening on ${base}`]);
      const read = await fetch(`${base}/teams/${TEAM}/operations/${id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(read.status).toBe(200);
      console.log(printed.match(/dev: built in [\d.]+ s/)?.[0]);
    } finally {
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      await Promise.race([gone, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 240_000);
});
