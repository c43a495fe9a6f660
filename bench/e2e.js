// Section 2: end to end over loopback. autocannon against the local runner (the
// real app on the embedded store), against our handlers in a bare node:http host
// (bench/bare-host.js), and against bench/baseline-server.js (the same single
// Cosmos call with the same document, nothing else), POST create and GET by id,
// rounds in ABBA order so drift on this shared machine hits every side alike. A
// fourth side is the runner with Application Insights configured, exporting to an
// ingestion endpoint on loopback (POST only); two more are the runner off and on again with
// `--experimental-async-context-frame`, the option that takes AsyncLocalStorage off async hooks on
// Node.js 22 (POST only). Each side's CPU time per request is
// read from /proc/<pid>/stat around its rounds, and the runners' resident memory
// after their POST rounds. Prints JSON.
//   BENCH_E2E_SECONDS (per round, default 6), BENCH_E2E_ROUNDS (default 4),
//   BENCH_E2E_CONNECTIONS (default 10)
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { startIngestion } from "./ingestion.js";
import { startNode } from "./processes.js";
import { CREATE_BODY as BODY, TEAM } from "./request.js";

const DURATION = Number(process.env.BENCH_E2E_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_E2E_ROUNDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_E2E_CONNECTIONS ?? 10);
const root = new URL("..", import.meta.url).pathname;
const CLOCK_TICKS_PER_SECOND = 100;
const ASYNC_CONTEXT_FRAME = [process.env.NODE_OPTIONS, "--experimental-async-context-frame"].filter(Boolean).join(" ");

/** CPU time (user + system) a process has used, in µs. */
function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SECOND;
}

function rssMiB(pid) {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : NaN;
}

async function cannon(pid, url, options) {
  const before = cpuMicros(pid);
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, ...options });
  const cpu = cpuMicros(pid) - before;
  return {
    requests: r.requests.total,
    cpu,
    rps: r.requests.average,
    p99: r.latency.p99,
    p50: r.latency.p50,
    bad: r.non2xx + r.errors + r.timeouts,
  };
}

function summary(results) {
  const avg = (k) => results.reduce((s, r) => s + r[k], 0) / results.length;
  const requests = results.reduce((s, r) => s + r.requests, 0);
  const cpu = results.reduce((s, r) => s + r.cpu, 0);
  return {
    rps: avg("rps"),
    p99: avg("p99"),
    p50: avg("p50"),
    bad: results.reduce((s, r) => s + r.bad, 0),
    cpuUsPerRequest: requests > 0 ? cpu / requests : NaN,
    rounds: results.map((r) => Math.round(r.rps)),
  };
}

const devDir = mkdtempSync(join(tmpdir(), "teamops-bench-e2e-"));
const started = [];
let ingestion;
try {
  const store = await startNode([join(root, "dist/local/store.js")], {
    env: { COSMOS_PORT: "0" },
    ready: /Embedded Cosmos DB server at (\S+)/,
  });
  started.push(store);
  ingestion = await startIngestion();
  const { LOCAL_COSMOS_KEY } = await import("../dist/local/embeddedCosmos.js");
  const cosmosEnv = {
    COSMOS_ENDPOINT: store.match[1],
    COSMOS_KEY: LOCAL_COSMOS_KEY,
    COSMOS_DATABASE: "teamops",
    COSMOS_CONTAINER: "operations",
  };
  const { ensureDevKeys, mintDevToken, DEV_AUDIENCE, DEV_TENANT_ID } = await import("../dist/local/devIdentity.js");
  const keys = await ensureDevKeys(devDir);
  // The runner serves the app package.json `main` names: the bundle, as deployed.
  const runner = (env = {}) =>
    startNode([join(root, "dist/local/runner.js")], {
      env: {
        ...cosmosEnv,
        PORT: "0",
        TEAMOPS_DEV_DIR: devDir,
        AUTH_JWKS_URI: "",
        LOG_LEVEL: "info",
        // HTTP only: the runner's local change-feed emulation polls the store, which the deployed app never does.
        LOCAL_TRIGGERS: "off",
        ...env,
      },
      ready: /listening on (http:\/\/\S+)/,
    });
  const servers = {
    baseline: await startNode([join(root, "bench/baseline-server.js")], {
      env: { ...cosmosEnv, PORT: "0" },
      ready: /baseline listening on (http:\/\/\S+)/,
    }),
    // Diagnostic: our handlers without the Functions request objects (bench/bare-host.js).
    bare: await startNode([join(root, "bench/bare-host.js")], {
      env: {
        ...cosmosEnv,
        PORT: "0",
        AUTH_AUDIENCES: DEV_AUDIENCE,
        AUTH_TENANTS: "*",
        AUTH_JWKS_FILE: keys.jwksFile,
        AUTH_JWKS_URI: "",
      },
      ready: /bare host listening on (http:\/\/\S+)/,
    }),
    app: await runner(),
    // As in Azure: a connection string, and telemetry really exported (to the loopback ingestion endpoint).
    appTelemetry: await runner({
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${randomUUID()};IngestionEndpoint=${ingestion.url}`,
      NODE_EXTRA_CA_CERTS: ingestion.certFile,
    }),
    // The option measured beside them: the same two runners with AsyncLocalStorage on the async context frame
    // (the default from Node.js 24; a flag on 22, which the worker takes from `languageWorkers__node__arguments`).
    appFrame: await runner({ NODE_OPTIONS: ASYNC_CONTEXT_FRAME }),
    appTelemetryFrame: await runner({
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${randomUUID()};IngestionEndpoint=${ingestion.url}`,
      NODE_EXTRA_CA_CERTS: ingestion.certFile,
      NODE_OPTIONS: ASYNC_CONTEXT_FRAME,
    }),
  };
  started.push(...Object.values(servers));

  const token = await mintDevToken({ app: true }, keys);
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const baseOf = (side) => (side === "baseline" ? `${servers.baseline.match[1]}/v1.0` : servers[side].match[1]);

  // One operation to read back, the same document for every side.
  const created = await fetch(`${baseOf("app")}/teams/${TEAM}/operations`, { method: "POST", headers, body: BODY });
  if (created.status !== 201) throw new Error(`create answered ${created.status}: ${await created.text()}`);
  const { id } = await created.json();
  const baselineId = encodeURIComponent(`${DEV_TENANT_ID}:${id}`);
  const probe = await fetch(`${baseOf("baseline")}/teams/${TEAM}/operations/${baselineId}`);
  if (probe.status !== 200) throw new Error(`baseline read answered ${probe.status}`);
  // The baseline's create writes the same document as ours (it stores the body it is sent, with a new id): the
  // document the app stored, without the id and Cosmos's system properties. The same call, the same payload.
  const stored = await probe.json();
  const BASELINE_BODY = JSON.stringify(
    Object.fromEntries(Object.entries(stored).filter(([key]) => key !== "id" && !key.startsWith("_"))),
  );

  const cases = {
    create: (side) =>
      side === "baseline"
        ? { method: "POST", headers: { "content-type": "application/json" }, body: BASELINE_BODY }
        : { method: "POST", headers, body: BODY },
    read: (side) => (side === "baseline" ? {} : { headers }),
  };
  const urlOf = (name, side) =>
    name === "create"
      ? `${baseOf(side)}/teams/${TEAM}/operations`
      : `${baseOf(side)}/teams/${TEAM}/operations/${side === "baseline" ? baselineId : id}`;
  const sidesOf = {
    create: ["baseline", "bare", "app", "appTelemetry", "appFrame", "appTelemetryFrame"],
    read: ["baseline", "bare", "app"],
  };

  // Warm-up, not counted: the JIT, the connection pools, the key set.
  for (const name of Object.keys(cases)) {
    for (const side of sidesOf[name]) {
      await autocannon({ url: urlOf(name, side), connections: CONNECTIONS, duration: 1, ...cases[name](side) });
    }
  }
  const out = {};
  const rss = {};
  for (const name of Object.keys(cases)) {
    const runs = Object.fromEntries(sidesOf[name].map((side) => [side, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = [...sidesOf[name]];
      if (round % 2 === 1) order.reverse();
      for (const side of order) {
        const server = servers[side];
        if (server.child.exitCode !== null || server.child.signalCode !== null) {
          throw new Error(`${side} exited (${server.child.exitCode ?? server.child.signalCode}): ${server.stderr()}`);
        }
        runs[side].push(await cannon(server.child.pid, urlOf(name, side), cases[name](side)));
      }
    }
    out[name] = Object.fromEntries(Object.entries(runs).map(([side, results]) => [side, summary(results)]));
    if (name === "create")
      for (const side of ["app", "appTelemetry", "appFrame", "appTelemetryFrame"])
        rss[side] = rssMiB(servers[side].child.pid);
  }
  process.stdout.write(
    JSON.stringify({
      duration: DURATION,
      connections: CONNECTIONS,
      rounds: ROUNDS,
      ...out,
      rss,
      ingestion: { requests: ingestion.requests(), bytes: ingestion.bytes() },
    }) + "\n",
  );
} finally {
  for (const p of started.reverse()) await p.stop();
  await ingestion?.close();
  rmSync(devDir, { recursive: true, force: true });
}
