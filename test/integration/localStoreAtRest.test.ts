/**
 * The local store at rest, through the runner as `npm start` runs it, on a data folder of its own: an idle runner
 * writes nothing to its data files (its triggers, which read the store all along, included), and a change writes that
 * change, not the whole store again.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDevKeys, mintDevToken } from "../../local/devIdentity.js";
import { call, TEAM } from "../support/http.js";
import { waitFor } from "../support/receiver.js";
import { spawnRunner, type Runner } from "../support/stack.js";

let devDir: string;
let dataDir: string;
let runner: Runner;
let token: string;

interface FileState {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Every file of the store's data in the folder (Azurite's are off here): which file, its size, its last change. */
function storeFiles(): Record<string, FileState> {
  const files: Record<string, FileState> = {};
  for (const name of readdirSync(dataDir)) {
    if (!name.startsWith("store")) continue;
    const { ino, size, mtimeMs } = statSync(join(dataDir, name));
    files[name] = { ino, size, mtimeMs };
  }
  return files;
}

/** The bytes written between two looks: a file replaced (another inode) counts whole, one appended to its growth. */
function bytesWritten(before: Record<string, FileState>, after: Record<string, FileState>): number {
  let written = 0;
  for (const [name, file] of Object.entries(after)) {
    const was = before[name];
    if (!was || was.ino !== file.ino || file.size < was.size) written += file.size;
    else written += file.size - was.size;
  }
  return written;
}

const create = async () => {
  const response = await call(`${runner.baseUrl}/teams/${TEAM}/operations`, {
    method: "POST",
    token,
    body: { operationType: "cloneTeam", status: "inProgress" },
  });
  expect(response.status, response.text).toBe(201);
  return response.json.id as string;
};

const bytesOf = (files: Record<string, { size: number }>) => Object.values(files).reduce((n, f) => n + f.size, 0);

beforeAll(async () => {
  devDir = mkdtempSync(join(tmpdir(), "teamops-dev-"));
  dataDir = mkdtempSync(join(tmpdir(), "teamops-data-"));
  token = await mintDevToken({ app: true }, await ensureDevKeys(devDir));
  runner = await spawnRunner({
    TEAMOPS_DEV_DIR: devDir,
    LOCAL_PERSISTENCE: "on",
    LOCAL_DATA_DIR: dataDir,
    LOCAL_QUEUES: "off",
    // The change feed and the timers run, reading the store, as in `npm start`.
    SUBSCRIPTION_LIFECYCLE_SCHEDULE: "* * * * * *",
    SWEEPER_SCHEDULE: "* * * * * *",
  });
});
afterAll(async () => {
  await runner?.stop();
  rmSync(devDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe("an idle runner", () => {
  it("writes nothing to its data files, however long it runs", async () => {
    await create();
    // What the create wrote is on disk; then nothing is written any more.
    let before = storeFiles();
    await waitFor(
      async () => {
        await new Promise((r) => setTimeout(r, 1_500));
        const now = storeFiles();
        const settled = JSON.stringify(now) === JSON.stringify(before);
        before = now;
        return settled;
      },
      "the create's write",
      20_000,
    );
    // Several of the store's save intervals, change-feed polls, sweeps and lifecycle runs.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(storeFiles()).toEqual(before);
  }, 60_000);
});

describe("a change", () => {
  it("writes that change, not the whole store again", async () => {
    for (let i = 0; i < 200; i++) await create();
    await new Promise((r) => setTimeout(r, 2_500));
    const before = storeFiles();
    const id = await create();
    await waitFor(async () => {
      const saved = await new Promise((r) => setTimeout(r, 200)).then(storeFiles);
      return bytesOf(saved) !== bytesOf(before) ? saved : undefined;
    }, "the change's write");
    const read = await call(`${runner.baseUrl}/teams/${TEAM}/operations/${id}`, { token });
    expect(read.status).toBe(200);
    // A whole store of 200 operations is well over 50 KB; one operation is under 2 KB.
    expect(bytesOf(before)).toBeGreaterThan(50_000);
    const written = bytesWritten(before, storeFiles());
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(2_000);
  }, 60_000);
});
