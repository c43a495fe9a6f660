#!/usr/bin/env node
/**
 * `npm run soak`: sustained load on the local runner, on loopback only.
 *
 * Starts the embedded Cosmos DB server in this process and the runner
 * (`node dist/local/runner.js`, what `npm start` runs) as a child pointed at
 * it, so the runner's resident memory is the app's alone. Seeds a team with
 * operations, then drives a mix of creates, reads, lists and updates with
 * autocannon for SOAK_SECONDS (default 60) over SOAK_CONNECTIONS (default 10)
 * connections, after an uncounted warm-up of SOAK_WARMUP_SECONDS (default
 * 10), and reports requests served, answers by status, errors, latency
 * percentiles and the runner's VmRSS at start (after the warm-up), every
 * SOAK_SAMPLE_SECONDS (default 5) and at the end, with its growth per minute
 * (the least-squares slope of those samples). SOAK_REPORT names a file to
 * write the report to as JSON (the bench reads it).
 * Exits non-zero on any 5xx or connection error. Needs `npm run build` first.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { ensureDevKeys, mintDevToken } = await import(join(ROOT, "dist/local/devIdentity.js"));
const { ensureLocalContainer, startEmbeddedCosmos } = await import(join(ROOT, "dist/local/embeddedCosmos.js"));

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 10);
const WARMUP_SECONDS = Number(process.env.SOAK_WARMUP_SECONDS ?? 10);
const SAMPLE_SECONDS = Number(process.env.SOAK_SAMPLE_SECONDS ?? 5);
const SEED = 50;
const TEAM = "5c0a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f";
/** Creates go to their own teams, so the seeded team's list stays the same size all along. */
const CREATE_TEAMS = Array.from({ length: 16 }, () => randomUUID());

function rssKiB(pid) {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) : NaN;
}
const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;

/** MiB per minute: the least-squares slope of the samples (seconds, KiB). */
function growthPerMinute(samples) {
  const n = samples.length;
  if (n < 2) return NaN;
  const meanT = samples.reduce((s, p) => s + p.at, 0) / n;
  const meanK = samples.reduce((s, p) => s + p.kib, 0) / n;
  const cov = samples.reduce((s, p) => s + (p.at - meanT) * (p.kib - meanK), 0);
  const varT = samples.reduce((s, p) => s + (p.at - meanT) ** 2, 0);
  return varT > 0 ? ((cov / varT) * 60) / 1024 : NaN;
}

async function startRunner(env) {
  const child = spawn(process.execPath, [join(ROOT, "dist/local/runner.js")], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      PORT: "0",
      AZURITE_QUEUE_PORT: "0",
      LOCAL_PERSISTENCE: "off",
      // LOCAL_QUEUES=off (the bench) runs without Azurite; LOCAL_TRIGGERS=off without the timers and change feed too.
      ...Object.fromEntries(
        ["LOCAL_QUEUES", "LOCAL_TRIGGERS"].flatMap((n) => (process.env[n] ? [[n, process.env[n]]] : [])),
      ),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let printed = "";
  child.stderr.on("data", (c) => (printed += c));
  const baseUrl = await new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`runner did not start:\n${printed}`)), 60_000);
    child.stdout.on("data", (c) => {
      printed += c;
      const match = /listening on (http:\/\/\S+)/.exec(printed);
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[1]);
      }
    });
    child.once("exit", (code) => reject(new Error(`runner exited with ${code}:\n${printed}`)));
  });
  return { child, baseUrl, output: () => printed };
}

async function main() {
  const devDir = mkdtempSync(join(tmpdir(), "teamops-soak-"));
  const keys = await ensureDevKeys(devDir);
  const cosmos = await startEmbeddedCosmos();
  await ensureLocalContainer(cosmos.endpoint, cosmos.key, "teamops", "operations");
  const runner = await startRunner({
    COSMOS_ENDPOINT: cosmos.endpoint,
    COSMOS_KEY: cosmos.key,
    COSMOS_DATABASE: "teamops",
    COSMOS_CONTAINER: "operations",
    TEAMOPS_DEV_DIR: devDir,
  });
  const token = await mintDevToken({ app: true, expiresIn: SECONDS + 3600 }, keys);
  const auth = { authorization: `Bearer ${token}` };
  const json = { ...auth, "content-type": "application/json" };
  const base = new URL(runner.baseUrl);
  const prefix = base.pathname;

  try {
    // Seed and warm up: the first requests load the app and the key set.
    const ids = [];
    for (let i = 0; i < SEED; i++) {
      const res = await fetch(`${runner.baseUrl}/teams/${TEAM}/operations`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ operationType: "cloneTeam", status: "inProgress" }),
      });
      if (res.status !== 201) throw new Error(`seeding failed: ${res.status} ${await res.text()}`);
      ids.push((await res.json()).id);
    }
    const pick = (list) => list[Math.floor(Math.random() * list.length)];
    let created = 0;
    const requests = [
      {
        method: "POST",
        setupRequest: (req) => ({
          ...req,
          path: `${prefix}/teams/${pick(CREATE_TEAMS)}/operations`,
          headers: json,
          body: JSON.stringify({ operationType: "archiveTeam", targetResourceId: `soak-${created++}` }),
        }),
      },
      {
        method: "GET",
        setupRequest: (req) => ({ ...req, path: `${prefix}/teams/${TEAM}/operations/${pick(ids)}`, headers: auth }),
      },
      {
        method: "GET",
        setupRequest: (req) => ({
          ...req,
          path: `${prefix}/teams/${TEAM}/operations?$top=20&$filter=status%20eq%20'inProgress'&$orderby=createdDateTime%20desc`,
          headers: auth,
        }),
      },
      {
        method: "PATCH",
        setupRequest: (req) => ({
          ...req,
          path: `${prefix}/teams/${TEAM}/operations/${pick(ids)}`,
          headers: json,
          body: JSON.stringify({
            status: "inProgress",
            targetResourceLocation: `https://example.test/${randomUUID()}`,
          }),
        }),
      },
      {
        method: "GET",
        setupRequest: (req) => ({ ...req, path: `${prefix}/teams/${TEAM}/operations/${pick(ids)}`, headers: auth }),
      },
    ];

    const idleKiB = rssKiB(runner.child.pid);
    // A warm-up whose figures are not counted: "start" memory is taken once the JIT and caches have settled.
    console.log(`soak: warming up for ${WARMUP_SECONDS} s`);
    await autocannon({ url: base.origin, connections: CONNECTIONS, duration: WARMUP_SECONDS, timeout: 10, requests });
    const rss = [{ at: 0, kib: rssKiB(runner.child.pid) }];
    const started = Date.now();
    const sampler = setInterval(
      () => rss.push({ at: (Date.now() - started) / 1000, kib: rssKiB(runner.child.pid) }),
      SAMPLE_SECONDS * 1000,
    );

    console.log(
      `soak: ${SECONDS} s, ${CONNECTIONS} connections, against ${runner.baseUrl} (runner pid ${runner.child.pid})`,
    );
    const result = await autocannon({
      url: base.origin,
      connections: CONNECTIONS,
      duration: SECONDS,
      timeout: 10,
      requests,
    });
    clearInterval(sampler);
    rss.push({ at: (Date.now() - started) / 1000, kib: rssKiB(runner.child.pid) });

    const byStatus = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([s, v]) => [s, v.count]));
    const serverErrors = Object.entries(byStatus)
      .filter(([s]) => Number(s) >= 500)
      .reduce((n, [, c]) => n + Number(c), 0);
    const report = {
      seconds: SECONDS,
      connections: CONNECTIONS,
      requests: result.requests.total,
      requestsPerSecond: result.requests.average,
      byStatus,
      connectionErrors: result.errors,
      timeouts: result.timeouts,
      latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
      rss: {
        idleBeforeWarmup: mib(idleKiB),
        start: mib(rss[0].kib),
        end: mib(rss.at(-1).kib),
        max: mib(Math.max(...rss.map((s) => s.kib))),
        samples: rss.map((s) => `${s.at.toFixed(0)}s:${(s.kib / 1024).toFixed(0)}`).join(" "),
        growthMiBPerMinute: growthPerMinute(rss),
      },
      node: process.version,
    };
    console.log(JSON.stringify(report, null, 2));
    if (process.env.SOAK_REPORT) writeFileSync(process.env.SOAK_REPORT, JSON.stringify(report));
    if (serverErrors > 0 || result.errors > 0 || result.timeouts > 0) {
      console.error(
        `soak: FAILED: ${serverErrors} 5xx, ${result.errors} connection errors, ${result.timeouts} timeouts`,
      );
      process.exitCode = 1;
    }
  } finally {
    const exited = new Promise((r) => runner.child.once("exit", r));
    runner.child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (runner.child.exitCode === null) runner.child.kill("SIGKILL");
    await cosmos.close();
    rmSync(devDir, { recursive: true, force: true });
  }
}

await main();
