// Section 2: end to end over loopback. autocannon against servers on one embedded
// store, POST create and GET by id, rounds in ABBA order so drift on this shared
// machine hits every side alike:
//   baseline    bench/baseline-server.js: bare node:http, the same single Cosmos call, nothing else (the floor)
//   bare        our handlers in a bare node:http host (bench/bare-host.js): without the Functions objects
//   peerBare    the peer's handlers in the same bare host
//   app         the local runner (the shipped bundle through @azure/functions, as the worker runs it)
//   appTelemetry  the same with Application Insights exporting to a loopback ingestion endpoint (as run locally
//               with a connection string)
//   appFrame    the runner with --experimental-async-context-frame, telemetry off
//   deployed    the runner as deployed: that flag (the deployment's NODE_OPTIONS on Node.js 22) and telemetry on
//   peer        the peer (bench/peer: AJV-checked create keyed by team, point read; no token, no Graph
//               representation, no ETags, no telemetry) in the same runner, with the same flag
//   streams     `deployed` with HTTP streams (the bundle built again with app.setup({ enableHttpStream: true }))
// Then the connection ladder: `deployed` and `peer` at 50 and 100 connections (the main rounds are the 10).
// Each side's CPU time per request is read from /proc/<pid>/stat around its rounds, and the runners' resident
// memory after their POST rounds. Prints JSON.
//   BENCH_E2E_SECONDS (per round, default 6), BENCH_E2E_ROUNDS (default 4), BENCH_E2E_CONNECTIONS (default 10),
//   BENCH_E2E_WARMUP_SECONDS (per side, default 1), BENCH_E2E_LADDER (connections, default "50,100")
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import autocannon from "autocannon";
import { startHarness } from "./harness.js";
import { benchRunnerEnv, cpuMicros, startNode, storeEnv } from "./processes.js";
import { CREATE_BODY as BODY, TEAM } from "./request.js";

const DURATION = Number(process.env.BENCH_E2E_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_E2E_ROUNDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_E2E_CONNECTIONS ?? 10);
const WARMUP = Number(process.env.BENCH_E2E_WARMUP_SECONDS ?? 1);
const LADDER = (process.env.BENCH_E2E_LADDER ?? "50,100").split(",").filter(Boolean).map(Number);
const root = new URL("..", import.meta.url).pathname;
const PEER_ROOT = join(root, "bench/peer");
const ASYNC_CONTEXT_FRAME = [process.env.NODE_OPTIONS, "--experimental-async-context-frame"].filter(Boolean).join(" ");

function rssMiB(pid) {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : NaN;
}

async function cannon(pid, url, options, connections = CONNECTIONS) {
  const before = cpuMicros(pid);
  const r = await autocannon({ url, connections, duration: DURATION, ...options });
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

/** Runs each side `ROUNDS` times, in ABBA order; a side that exited stops the bench. */
async function abba(sides, servers, run) {
  const runs = Object.fromEntries(sides.map((side) => [side, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...sides];
    if (round % 2 === 1) order.reverse();
    for (const side of order) {
      const server = servers[side];
      if (server.child.exitCode !== null || server.child.signalCode !== null) {
        throw new Error(`${side} exited (${server.child.exitCode ?? server.child.signalCode}): ${server.stderr()}`);
      }
      runs[side].push(await run(side, server));
    }
  }
  return Object.fromEntries(Object.entries(runs).map(([side, results]) => [side, summary(results)]));
}

const harness = await startHarness("e2e");
const { devDir, started, store, ingestion, streaming } = harness;
try {
  const cosmosEnv = await storeEnv(store.match[1]);
  const runnerEnv = await benchRunnerEnv(store.match[1], devDir);
  const { ensureDevKeys, mintDevToken, DEV_AUDIENCE, DEV_TENANT_ID } = await import("../dist/local/devIdentity.js");
  const keys = await ensureDevKeys(devDir);
  // The runner serves the app package.json `main` names (the bundle, as deployed), or the app at
  // AzureWebJobsScriptRoot.
  const runner = (env = {}) =>
    startNode([join(root, "dist/local/runner.js")], {
      env: { ...runnerEnv, LOG_LEVEL: "info", ...env },
      ready: /listening on (http:\/\/\S+)/,
      timeoutMs: 60_000,
    });
  const bareHost = (env = {}) =>
    startNode([join(root, "bench/bare-host.js")], {
      env: {
        ...cosmosEnv,
        PORT: "0",
        AUTH_AUDIENCES: DEV_AUDIENCE,
        AUTH_TENANTS: "*",
        AUTH_JWKS_FILE: keys.jwksFile,
        AUTH_JWKS_URI: "",
        ...env,
      },
      ready: /bare host listening on (http:\/\/\S+)/,
      timeoutMs: 60_000,
    });
  // As in Azure: a connection string, and telemetry really exported (to the loopback ingestion endpoint).
  const telemetry = () => ({
    APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${randomUUID()};IngestionEndpoint=${ingestion.url}`,
    NODE_EXTRA_CA_CERTS: ingestion.certFile,
  });
  // As deployed on Node.js 22: the worker runs with AsyncLocalStorage on the async context frame (the default from
  // Node.js 24; a flag on 22, which the deployment gives the worker), which the peer gets too.
  const frame = { NODE_OPTIONS: ASYNC_CONTEXT_FRAME };
  // Started one after another: at once, on two shared cores, some would not be up in time.
  const servers = {};
  for (const [side, start] of Object.entries({
    baseline: () =>
      startNode([join(root, "bench/baseline-server.js")], {
        env: { ...cosmosEnv, PORT: "0" },
        ready: /baseline listening on (http:\/\/\S+)/,
      }),
    bare: () => bareHost(),
    peerBare: () => bareHost({ BENCH_APP_ROOT: PEER_ROOT }),
    app: () => runner(),
    appTelemetry: () => runner(telemetry()),
    appFrame: () => runner(frame),
    deployed: () => runner({ ...telemetry(), ...frame }),
    peer: () => runner({ ...frame, AzureWebJobsScriptRoot: PEER_ROOT }),
    streams: () => runner({ ...telemetry(), ...frame, AzureWebJobsScriptRoot: streaming.root }),
  })) {
    servers[side] = await start();
    started.push(servers[side]);
  }

  const token = await mintDevToken({ app: true }, keys);
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const baseOf = (side) => (side === "baseline" ? `${servers.baseline.match[1]}/v1.0` : servers[side].match[1]);

  // One operation to read back, the same document for every side of the API; the peer reads one it created.
  const created = await fetch(`${baseOf("app")}/teams/${TEAM}/operations`, { method: "POST", headers, body: BODY });
  if (created.status !== 201) throw new Error(`create answered ${created.status}: ${await created.text()}`);
  const { id } = await created.json();
  const peerCreated = await fetch(`${baseOf("peer")}/teams/${TEAM}/operations`, {
    method: "POST",
    headers,
    body: BODY,
  });
  if (peerCreated.status !== 201) throw new Error(`the peer's create answered ${peerCreated.status}`);
  const { id: peerId } = await peerCreated.json();
  const baselineId = encodeURIComponent(`${DEV_TENANT_ID}:${id}`);
  const probe = await fetch(`${baseOf("baseline")}/teams/${TEAM}/operations/${baselineId}`);
  if (probe.status !== 200) throw new Error(`baseline read answered ${probe.status}`);
  // The baseline's create writes the same document as ours (it stores the body it is sent, with a new id): the
  // document the app stored, without the id and Cosmos's system properties. The same call, the same payload.
  const stored = await probe.json();
  const BASELINE_BODY = JSON.stringify(
    Object.fromEntries(Object.entries(stored).filter(([key]) => key !== "id" && !key.startsWith("_"))),
  );

  const isPeer = (side) => side === "peer" || side === "peerBare";
  // Every side of the API and the peer gets the same request (the peer ignores the token).
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
      : `${baseOf(side)}/teams/${TEAM}/operations/${side === "baseline" ? baselineId : isPeer(side) ? peerId : id}`;
  const sidesOf = {
    create: ["baseline", "bare", "peerBare", "app", "appTelemetry", "appFrame", "deployed", "peer", "streams"],
    read: ["baseline", "bare", "app", "deployed", "peer", "streams"],
  };

  // Warm-up, not counted: the JIT, the connection pools, the key set.
  for (const name of Object.keys(cases)) {
    for (const side of sidesOf[name]) {
      await autocannon({ url: urlOf(name, side), connections: CONNECTIONS, duration: WARMUP, ...cases[name](side) });
    }
  }
  const out = {};
  const rss = {};
  for (const name of Object.keys(cases)) {
    out[name] = await abba(sidesOf[name], servers, (side, server) =>
      cannon(server.child.pid, urlOf(name, side), cases[name](side)),
    );
    if (name === "create") {
      for (const side of ["app", "appTelemetry", "appFrame", "deployed", "peer", "streams"]) {
        rss[side] = rssMiB(servers[side].child.pid);
      }
    }
  }
  // The connection ladder, POST: ours as deployed beside the peer (the main rounds give the first rung).
  const ladder = { [CONNECTIONS]: { deployed: out.create.deployed, peer: out.create.peer } };
  for (const connections of LADDER) {
    ladder[connections] = await abba(["deployed", "peer"], servers, (side, server) =>
      cannon(server.child.pid, urlOf("create", side), cases.create(side), connections),
    );
  }
  process.stdout.write(
    JSON.stringify({
      duration: DURATION,
      connections: CONNECTIONS,
      rounds: ROUNDS,
      ...out,
      ladder,
      rss,
      ingestion: { requests: ingestion.requests(), bytes: ingestion.bytes() },
    }) + "\n",
  );
} finally {
  await harness.close();
}
