// The local store at rest and while it is saved, through the runner as `npm start` runs it (embedded store, a data
// folder of its own, triggers on, no Azurite): a store of 20,000 operations (BENCH_QUICK: 5,000) is restored at
// start (its time is measured); then
//   - idle for 10 s: the bytes written to the data files (goal: none), and /health and a GET by id, polled all along;
//   - a stream of PATCHes (4 at a time), until the journal has outgrown a quarter of the base three times (BENCH_QUICK:
//     once), so that the base is written again (compaction): /health and a GET, polled every 20 ms all along, and
//     those sent while the base was being written.
// The same polls against an empty store are the baseline. Prints JSON: { figures, rows } for bench/run.js.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fmt, percentile } from "./stats.js";

const root = new URL("..", import.meta.url).pathname;
const { ensureDevKeys, mintDevToken } = await import(join(root, "dist/local/devIdentity.js"));
const { newOperationDocument } = await import(join(root, "dist/shared/operations/rules.js"));
const { DEV_TENANT_ID } = await import(join(root, "dist/local/devIdentity.js"));

const QUICK = process.env.BENCH_QUICK === "1";
const OPERATIONS = QUICK ? 5_000 : 20_000;
const IDLE_MS = QUICK ? 5_000 : 10_000;
const TEAM = "3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f";
const POLL_MS = 20;
/** How many times the base is written again during the PATCH stream. */
const COMPACTIONS = QUICK ? 1 : 3;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function startRunner(env) {
  const child = spawn(process.execPath, [join(root, "dist/local/runner.js")], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", PORT: "0", LOCAL_QUEUES: "off", LOG_LEVEL: "debug", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Never outlive the bench, however it ends.
  process.once("exit", () => child.kill("SIGTERM"));
  let printed = "";
  const saves = [];
  const started = performance.now();
  child.stderr.on("data", (c) => (printed += c));
  child.stdout.on("data", (c) => {
    printed += c;
    // A compaction's end, and how long it took: the window it wrote the base in.
    for (const match of String(c).matchAll(/local store saved to \S+ \((\d+) bytes, (\d+) ms\)/g)) {
      saves.push({ end: performance.now(), ms: Number(match[2]), bytes: Number(match[1]) });
    }
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`runner did not start:\n${printed.slice(-2000)}`)), 300_000);
    const onData = () => {
      const match = /listening on (http:\/\/\S+)[\s\S]*token:/.exec(printed);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off("data", onData);
      resolve({
        baseUrl: match[1],
        startMs: performance.now() - started,
        saves,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), 20_000).unref();
          }),
      });
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => reject(new Error(`runner exited with ${code}:\n${printed.slice(-2000)}`)));
  });
}

/** The store's data files: their total size and whether any changed (another inode, size or time). */
function storeFiles(dir) {
  return readdirSync(dir)
    .filter((name) => name.startsWith("store"))
    .map((name) => {
      const { ino, size, mtimeMs } = statSync(join(dir, name));
      return { name, ino, size, mtimeMs };
    });
}
const sameFiles = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** Polls /health and a GET by id every POLL_MS until `until` resolves: each answer's latency and send time. */
async function poll(baseUrl, token, id, until) {
  const samples = { health: [], get: [] };
  let done = false;
  until.then(() => (done = true));
  while (!done) {
    for (const [kind, url, headers] of [
      ["health", `${baseUrl}/health`, {}],
      ["get", `${baseUrl}/teams/${TEAM}/operations/${id}`, { authorization: `Bearer ${token}` }],
    ]) {
      const at = performance.now();
      const res = await fetch(url, { headers });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
      samples[kind].push({ at, ms: performance.now() - at });
    }
    await sleep(POLL_MS);
  }
  return samples;
}

const stats = (list) => {
  const sorted = list.map((s) => s.ms).sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN, n: sorted.length };
};

const devDir = mkdtempSync(join(tmpdir(), "teamops-bench-store-"));
const dataDir = mkdtempSync(join(tmpdir(), "teamops-bench-data-"));
const emptyDir = mkdtempSync(join(tmpdir(), "teamops-bench-empty-"));
const running = [];
try {
  const keys = await ensureDevKeys(devDir);
  const token = await mintDevToken({ app: true, expiresIn: 3600 }, keys);
  const env = { TEAMOPS_DEV_DIR: devDir, LOCAL_PERSISTENCE: "on" };

  // The store's containers as the runner makes them, then 20,000 operations as the API stores them, in the base.
  const first = await startRunner({ ...env, LOCAL_DATA_DIR: dataDir });
  await first.stop();
  const base = JSON.parse(readFileSync(join(dataDir, "store.json"), "utf8"));
  const operations = base.databases[0].containers.find((c) => c.definition.id === "operations");
  const ids = [];
  for (let i = 0; i < OPERATIONS; i++) {
    const document = newOperationDocument(
      { operationType: "cloneTeam", status: "inProgress", targetResourceId: randomUUID() },
      {
        tenantId: DEV_TENANT_ID,
        teamId: TEAM,
        createdBy: { kind: "application", objectId: undefined, appId: "bench" },
        ttlSeconds: 86_400,
      },
    );
    ids.push(document.operationId);
    operations.documents.push({ sequence: ++base.sequence, document });
  }
  writeFileSync(join(dataDir, "store.json"), JSON.stringify(base));
  const baseBytes = statSync(join(dataDir, "store.json")).size;

  const runner = await startRunner({ ...env, LOCAL_DATA_DIR: dataDir });
  running.push(runner);
  const id = ids[Math.floor(ids.length / 2)];

  // Idle.
  const before = storeFiles(dataDir);
  const idle = await poll(runner.baseUrl, token, id, sleep(IDLE_MS));
  const after = storeFiles(dataDir);
  const idleWrites = sameFiles(before, after)
    ? 0
    : after.reduce((n, f) => n + f.size, 0) - before.reduce((n, f) => n + f.size, 0) || 1;

  // A stream of PATCHes until the base has been written again at least once.
  let patching = true;
  let patched = 0;
  const savesBefore = runner.saves.length;
  const stream = (async () => {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let i = w; patching; i += 4) {
          const res = await fetch(`${runner.baseUrl}/teams/${TEAM}/operations/${ids[i % ids.length]}`, {
            method: "PATCH",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({ attemptsCount: i + 1 }),
          });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`PATCH: ${res.status}`);
          patched++;
          if (runner.saves.length >= savesBefore + COMPACTIONS || performance.now() - started > 300_000) {
            patching = false;
          }
        }
      }),
    );
  })();
  const writing = await poll(runner.baseUrl, token, id, stream);
  const saves = runner.saves.slice(savesBefore);
  const whileSaved = (list) => list.filter((s) => saves.some((w) => s.at >= w.end - w.ms - 5 && s.at <= w.end));
  const savedHealth = stats(whileSaved(writing.health));
  const savedGet = stats(whileSaved(writing.get));

  // The baseline: the same polls against an empty store.
  const empty = await startRunner({ ...env, LOCAL_DATA_DIR: emptyDir });
  running.push(empty);
  const created = await fetch(`${empty.baseUrl}/teams/${TEAM}/operations`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ operationType: "cloneTeam" }),
  });
  const emptyId = (await created.json()).id;
  const baseline = await poll(empty.baseUrl, token, emptyId, sleep(IDLE_MS));

  const h = { idle: stats(idle.health), writing: stats(writing.health), baseline: stats(baseline.health) };
  const g = { idle: stats(idle.get), writing: stats(writing.get), baseline: stats(baseline.get) };
  const worstWhileSaved = Math.max(savedHealth.max, savedGet.max);
  const figures = {
    localStoreIdleBytesWritten: idleWrites,
    localStoreHealthMaxWhileSavedMs: savedHealth.max,
    localStoreGetMaxWhileSavedMs: savedGet.max,
    localStoreStartMs: runner.startMs,
  };
  const n = OPERATIONS.toLocaleString("en");
  const mb = (bytes) => fmt(bytes / 1048576, 1);
  const rows = [
    [
      "9",
      `local store, ${n} operations, idle ${IDLE_MS / 1000} s: bytes written to its data files`,
      String(idleWrites),
      "",
      "",
      "0",
      idleWrites === 0,
    ],
    [
      "9",
      "  /health while idle, p50 / p99 / max ms",
      `${fmt(h.idle.p50, 0)} / ${fmt(h.idle.p99, 0)} / ${fmt(h.idle.max, 0)}`,
      `${fmt(h.baseline.p50, 0)} / ${fmt(h.baseline.p99, 0)} / ${fmt(h.baseline.max, 0)}`,
      "",
      "",
      undefined,
    ],
    [
      "9",
      "  GET by id while idle, p50 / p99 / max ms",
      `${fmt(g.idle.p50, 0)} / ${fmt(g.idle.p99, 0)} / ${fmt(g.idle.max, 0)}`,
      `${fmt(g.baseline.p50, 0)} / ${fmt(g.baseline.p99, 0)} / ${fmt(g.baseline.max, 0)}`,
      "",
      "",
      undefined,
    ],
    [
      "9",
      `  ${patched} PATCHes, base (${mb(saves[0]?.bytes ?? baseBytes)} MB) written ${saves.length}× in ${saves.map((s) => s.ms).join(", ")} ms: /health max while written, ms (${savedHealth.n} polls)`,
      fmt(savedHealth.max, 0),
      fmt(h.baseline.max, 0),
      "",
      "< 100",
      savedHealth.max < 100,
    ],
    [
      "9",
      `  the same, GET by id max while written, ms (${savedGet.n} polls)`,
      fmt(savedGet.max, 0),
      fmt(g.baseline.max, 0),
      "",
      "< 100",
      savedGet.max < 100,
    ],
    [
      "9",
      "  /health and GET p99 through the whole PATCH stream, ms",
      `${fmt(h.writing.p99, 0)} / ${fmt(g.writing.p99, 0)}`,
      `${fmt(h.baseline.p99, 0)} / ${fmt(g.baseline.p99, 0)}`,
      "",
      "",
      undefined,
    ],
    [
      "9",
      `  start with ${n} operations to restore, ms`,
      fmt(runner.startMs, 0),
      fmt(empty.startMs, 0),
      "",
      "",
      undefined,
    ],
  ];
  console.log(JSON.stringify({ figures, rows, worstWhileSaved }));
} finally {
  for (const r of running) await r.stop();
  for (const dir of [devDir, dataDir, emptyDir]) rmSync(dir, { recursive: true, force: true });
}
