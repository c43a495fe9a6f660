// Section 2: end to end over loopback. autocannon against the local runner (the
// real app on the embedded store) and against bench/baseline-server.js (the same
// single Cosmos call with the same document, nothing else), POST create and GET by
// id, rounds in ABBA order so drift on this shared machine hits both sides alike.
// Prints JSON.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { startNode } from "./processes.js";
import { BODY, TEAM } from "./request.js";

const DURATION = Number(process.env.BENCH_E2E_SECONDS ?? 6);
const CONNECTIONS = Number(process.env.BENCH_E2E_CONNECTIONS ?? 10);
const ROUNDS = 4;
const root = new URL("..", import.meta.url).pathname;

function cannon(url, options) {
  return autocannon({ url, connections: CONNECTIONS, duration: DURATION, ...options }).then((r) => ({
    rps: r.requests.average,
    p99: r.latency.p99,
    p50: r.latency.p50,
    ok: r["2xx"],
    bad: r.non2xx + r.errors + r.timeouts,
  }));
}

function mean(results) {
  const avg = (k) => results.reduce((s, r) => s + r[k], 0) / results.length;
  return { rps: avg("rps"), p99: avg("p99"), p50: avg("p50"), ok: avg("ok"), bad: avg("bad"), rounds: results };
}

const devDir = mkdtempSync(join(tmpdir(), "teamops-bench-e2e-"));
const started = [];
try {
  const store = await startNode([join(root, "dist/local/store.js")], {
    env: { COSMOS_PORT: "0" },
    ready: /Embedded Cosmos DB server at (\S+)/,
  });
  started.push(store);
  const { LOCAL_COSMOS_KEY } = await import("../dist/local/embeddedCosmos.js");
  const cosmosEnv = {
    COSMOS_ENDPOINT: store.match[1],
    COSMOS_KEY: LOCAL_COSMOS_KEY,
    COSMOS_DATABASE: "teamops",
    COSMOS_CONTAINER: "operations",
  };
  // The runner serves the app package.json `main` names: the bundle, as deployed.
  const { ensureDevKeys, mintDevToken, DEV_AUDIENCE, DEV_TENANT_ID } = await import("../dist/local/devIdentity.js");
  const runner = () =>
    startNode([join(root, "dist/local/runner.js")], {
      env: {
        ...cosmosEnv,
        PORT: "0",
        TEAMOPS_DEV_DIR: devDir,
        AUTH_JWKS_URI: "",
        LOG_LEVEL: "info",
        // HTTP only: the runner's local change-feed emulation polls the store, which the deployed app never does.
        LOCAL_TRIGGERS: "off",
      },
      ready: /listening on (http:\/\/\S+)/,
    });
  const app = await runner();
  started.push(app);
  // Diagnostic: our handlers without the Functions request objects (bench/bare-host.js).
  const bare = await startNode([join(root, "bench/bare-host.js")], {
    env: {
      ...cosmosEnv,
      PORT: "0",
      AUTH_AUDIENCES: DEV_AUDIENCE,
      AUTH_TENANTS: "*",
      AUTH_JWKS_FILE: (await ensureDevKeys(devDir)).jwksFile,
      AUTH_JWKS_URI: "",
    },
    ready: /bare host listening on (http:\/\/\S+)/,
  });
  started.push(bare);
  const baseline = await startNode([join(root, "bench/baseline-server.js")], {
    env: { ...cosmosEnv, PORT: "0" },
    ready: /baseline listening on (http:\/\/\S+)/,
  });
  started.push(baseline);

  const token = await mintDevToken({ app: true }, await ensureDevKeys(devDir));
  const appBase = app.match[1]; // http://127.0.0.1:port/v1.0
  const sides = { baseline: undefined, app: appBase, bare: bare.match[1] };
  const baseBase = `${baseline.match[1]}/v1.0`;
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };

  // One operation to read back, the same document for both sides.
  const created = await fetch(`${appBase}/teams/${TEAM}/operations`, { method: "POST", headers, body: BODY });
  if (created.status !== 201) throw new Error(`create answered ${created.status}: ${await created.text()}`);
  const { id } = await created.json();
  const probe = await fetch(`${baseBase}/teams/${TEAM}/operations/${encodeURIComponent(`${DEV_TENANT_ID}:${id}`)}`);
  if (probe.status !== 200) throw new Error(`baseline read answered ${probe.status}`);
  // The baseline's create writes the same document as ours (it stores the body it is sent, with a new id): the
  // document the app stored, without the id and Cosmos's system properties. The same call, the same payload.
  const stored = await probe.json();
  const BASELINE_BODY = JSON.stringify(
    Object.fromEntries(Object.entries(stored).filter(([key]) => key !== "id" && !key.startsWith("_"))),
  );

  const baselineCase = {
    create: () =>
      cannon(`${baseBase}/teams/${TEAM}/operations`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: BASELINE_BODY,
      }),
    read: () => cannon(`${baseBase}/teams/${TEAM}/operations/${encodeURIComponent(`${DEV_TENANT_ID}:${id}`)}`, {}),
  };
  const appCase = (base) => ({
    create: () => cannon(`${base}/teams/${TEAM}/operations`, { method: "POST", headers, body: BODY }),
    read: () => cannon(`${base}/teams/${TEAM}/operations/${id}`, { headers }),
  });
  const runners = Object.fromEntries(
    Object.entries(sides).map(([side, base]) => [side, base ? appCase(base) : baselineCase]),
  );
  const out = {};
  for (const name of ["create", "read"]) {
    const runs = Object.fromEntries(Object.keys(runners).map((side) => [side, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = Object.keys(runners);
      if (round % 2 === 1) order.reverse();
      for (const side of order) runs[side].push(await runners[side][name]());
    }
    out[name] = Object.fromEntries(Object.entries(runs).map(([side, results]) => [side, mean(results)]));
  }
  process.stdout.write(JSON.stringify({ duration: DURATION, connections: CONNECTIONS, rounds: ROUNDS, ...out }) + "\n");
} finally {
  for (const p of started.reverse()) await p.stop();
  rmSync(devDir, { recursive: true, force: true });
}
