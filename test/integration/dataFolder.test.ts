/**
 * One runner per data folder, through the runner as `npm start` runs it and `npm run reset` (scripts/prepare-local.js
 * --reset): a lock in the folder names its owner; a second runner on the folder refuses at start, naming the first,
 * whatever its port; the lock goes when the runner stops, and one left by a process that died is taken over; reset
 * refuses while the folder is in use. And data files that cannot be used are refused, naming the file, the place in
 * it and what is wrong.
 */
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDevKeys } from "../../local/devIdentity.js";
import { freePort, PROJECT_ROOT, spawnRunner, type Runner } from "../support/stack.js";

const run = promisify(execFile);

let devDir: string;
const folders: string[] = [];
const runners: Runner[] = [];

const folder = () => {
  const dir = mkdtempSync(join(tmpdir(), "teamops-data-"));
  folders.push(dir);
  return dir;
};

async function runnerOn(dataDir: string, env: Record<string, string> = {}): Promise<Runner> {
  const runner = await spawnRunner({
    TEAMOPS_DEV_DIR: devDir,
    LOCAL_PERSISTENCE: "on",
    LOCAL_DATA_DIR: dataDir,
    LOCAL_QUEUES: "off",
    ...env,
  });
  runners.push(runner);
  return runner;
}

/** Starts a runner that must refuse: what it printed. */
async function refusedOn(dataDir: string, env: Record<string, string> = {}): Promise<string> {
  const started = runnerOn(dataDir, env);
  await expect(started).rejects.toThrow(/runner exited with 1/);
  return started.then(
    () => "",
    (error: Error) => error.message,
  );
}

const portOf = (runner: Runner) => new URL(runner.baseUrl).port;

const reset = (dataDir: string, port: number) =>
  run(process.execPath, [join(PROJECT_ROOT, "scripts/prepare-local.js"), "--reset"], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? "", LOCAL_DATA_DIR: dataDir, PORT: String(port) },
  });

beforeAll(async () => {
  devDir = mkdtempSync(join(tmpdir(), "teamops-dev-"));
  await ensureDevKeys(devDir);
});
afterAll(async () => {
  for (const runner of runners) await runner.stop();
  for (const dir of [devDir, ...folders]) rmSync(dir, { recursive: true, force: true });
});

describe("one runner per data folder", () => {
  it("a second runner on the folder refuses at start, naming the first, whatever its port", async () => {
    const dataDir = folder();
    const first = await runnerOn(dataDir);
    const message = await refusedOn(dataDir, { PORT: String(await freePort()) });
    expect(message).toContain(`${dataDir} is in use`);
    expect(message).toContain(`process ${first.child.pid}`);
    expect(message).toContain(`port ${portOf(first)}`);
    // The first one serves on, its data untouched by the second.
    expect((await fetch(`${first.baseUrl}/health`)).status).toBe(200);
  });

  it("the lock goes when the runner stops; one left by a process that died is taken over, saying so", async () => {
    const dataDir = folder();
    const first = await runnerOn(dataDir);
    const lock = join(dataDir, "runner.lock");
    expect(JSON.parse(readFileSync(lock, "utf8"))).toMatchObject({ pid: first.child.pid, port: Number(portOf(first)) });
    await first.stop();
    expect(existsSync(lock)).toBe(false);

    // The lock of a runner that was killed: its process is gone.
    const gone = spawnSync(process.execPath, ["-e", "process.exit(0)"]).pid;
    writeFileSync(lock, JSON.stringify({ pid: gone, port: 7071, startedAt: new Date().toISOString() }));
    const second = await runnerOn(dataDir);
    expect(second.output()).toContain(`process ${gone}`);
    expect(second.output()).toMatch(/no longer running.*taken over/);
    expect(JSON.parse(readFileSync(lock, "utf8"))).toMatchObject({ pid: second.child.pid });
  });

  it("npm run reset refuses while the folder is in use, whatever the port, and empties it once it is not", async () => {
    const dataDir = folder();
    const first = await runnerOn(dataDir);
    const refused = reset(dataDir, await freePort());
    await expect(refused).rejects.toMatchObject({ code: 1 });
    const { stderr } = await refused.catch((error: { stderr: string }) => error);
    expect(stderr).toContain(`process ${first.child.pid}`);
    expect(existsSync(join(dataDir, "store.json"))).toBe(true);
    expect((await fetch(`${first.baseUrl}/health`)).status).toBe(200);

    await first.stop();
    await reset(dataDir, await freePort());
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe("data files that cannot be used", () => {
  const base = (databases: unknown) => ({
    format: "team-operations-local-store/2",
    savedAt: "2026-12-01T00:00:00.000Z",
    sequence: 10,
    leases: {},
    databases,
  });
  const operations = (documents: unknown) => [
    {
      id: "teamops",
      containers: [{ definition: { id: "operations", partitionKey: { paths: ["/teamId"] } }, documents }],
    },
  ];

  /** The earlier format, without sequence numbers, as data folders of earlier versions hold it. */
  const earlier = (databases: unknown) => ({
    format: "team-operations-local-store/1",
    savedAt: "2026-12-01T00:00:00.000Z",
    databases,
  });

  it.each([
    ["not JSON", "{not json", "it is not JSON"],
    ["another format", { format: "something-else" }, 'format: a string ("something-else") is not a store snapshot'],
    [
      "containers not a list",
      earlier([{ id: "teamops", containers: 5 }]),
      "databases[0].containers: must be a list, not a number (5)",
    ],
    [
      "documents not a list",
      earlier(operations({ id: "x" })),
      "databases[0].containers[0].documents: must be a list, not an object",
    ],
    [
      "a document twice",
      earlier(
        operations([
          { id: "a", teamId: "t" },
          { id: "a", teamId: "t" },
        ]),
      ),
      'databases[0].containers[0].documents[1]: a second document with id "a" and partition key "t"',
    ],
    [
      "a document twice, with sequence numbers",
      base(
        operations([
          { sequence: 1, document: { id: "a", teamId: "t" } },
          { sequence: 2, document: { id: "a", teamId: "t" } },
        ]),
      ),
      'databases[0].containers[0].documents[1].document: a second document with id "a" and partition key "t"',
    ],
    [
      "a document without an id",
      base(operations([{ sequence: 1, document: { teamId: "t" } }])),
      "databases[0].containers[0].documents[0].document: a document needs an id",
    ],
  ])("%s: refused, naming the file, the place and what is wrong", async (_name, content, problem) => {
    const dataDir = folder();
    writeFileSync(join(dataDir, "store.json"), typeof content === "string" ? content : JSON.stringify(content));
    const message = await refusedOn(dataDir);
    expect(message).toContain(`${join(dataDir, "store.json")} cannot be used`);
    expect(message).toContain(problem);
  });

  it("a damaged line in the journal: refused naming the line; a last line cut short by a crash: ignored", async () => {
    const dataDir = folder();
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, "store.json"), JSON.stringify(base(operations([]))));
    const good = JSON.stringify({
      sequence: 11,
      database: "teamops",
      container: "operations",
      document: { id: "b", teamId: "t" },
    });
    writeFileSync(join(dataDir, "store.journal"), `${good}\n{"sequence":12,"database":"teamops"\n${good}\n`);
    const message = await refusedOn(dataDir);
    expect(message).toContain(`${join(dataDir, "store.journal")} cannot be used: line 2: it is not JSON`);

    writeFileSync(join(dataDir, "store.journal"), `${good}\n{"sequence":12,"datab`);
    const runner = await runnerOn(dataDir);
    expect(runner.output()).toContain("its last line was cut short");
    expect(runner.output()).toContain("(1 documents restored)");
  });
});
