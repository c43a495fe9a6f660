// `npm run build && node bench/profile.js`: where a request's CPU time goes, feature by feature, ours beside the
// peer's. The runner serves ours as deployed (telemetry on, exporting to a loopback ingestion endpoint, and the
// deployment's --experimental-async-context-frame), the peer (bench/peer, with the same flag), or ours as deployed
// with HTTP streams on (the local host then forwards each request to the library's proxy in the process), one per
// side and request (POST create, GET by id), each started with --cpu-prof; autocannon drives it for a warm-up and
// then PROFILE_SECONDS, and only the samples taken in those seconds count. Each sample is given to a feature by its
// stack: from the innermost frame outwards, the first frame of ours (mapped to its source through the bundle's
// source map) or of a package that belongs to one feature decides; Node.js's own frames are passed over, and a stack
// with nothing else (the HTTP parser, streams, timers) counts as the runtime's. Garbage collection is its own row.
// The samples give each feature's share of the process's CPU time over those seconds (from /proc), per request.
// Prints the table (CPU µs per request) and the JSON.
//   PROFILE_SECONDS (default 8), PROFILE_CONNECTIONS (default 10), PROFILE_INTERVAL_US (sampling, default 250)
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { repoRoot as root } from "./app-roots.js";
import { startHarness } from "./harness.js";
import { benchRunnerEnv, cpuMicros, startNode } from "./processes.js";
import { CREATE_BODY as BODY, TEAM } from "./request.js";
import { fmt } from "./stats.js";

const SECONDS = Number(process.env.PROFILE_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.PROFILE_CONNECTIONS ?? 10);
const INTERVAL_US = Number(process.env.PROFILE_INTERVAL_US ?? 250);
const PEER_ROOT = join(root, "bench/peer");

/**
 * Features, by where their code is: the first rule a frame's source matches names its feature. The runner's own
 * modules (dist/local, and the dist/shared modules it imports) are the host's part; the app's are in its bundle.
 */
const FEATURES = [
  ["local host (the Functions host's part)", /\/dist\/(local|shared)\/|\/local\/[a-zA-Z]+\.ts$/],
  ["token verification and access", /shared\/auth\/|node_modules\/jose\//],
  ["body guard (read, UTF-8, structure)", /shared\/http\/(jsonBody|jsonStructure|requestBody)\./],
  ["validation (AJV)", /shared\/operations\/(schema|validators\.generated|formats)\.|node_modules\/ajv(-formats)?\//],
  ["rules (document, ids, timestamps, turns)", /shared\/operations\/(rules|service|turns|timestamps)\.|shared\/ids\./],
  ["representation, headers, errors (Graph conventions)", /shared\/operations\/(model|csdl)\.|shared\/(api|http)\//],
  ["telemetry", /shared\/telemetry|@opentelemetry\/|monitor-opentelemetry-exporter|node:internal\/async_local_storage/],
  ["store wrapper (deadlines, errors, measurement)", /shared\/store\//],
  ["the peer's handler", /bench\/peer\//],
  [
    "Cosmos DB SDK",
    /node_modules\/@azure\/(cosmos|core-[a-z-]+|abort-controller|logger)\/|node_modules\/(tslib|priorityqueuejs|semaphore)\//,
  ],
  [
    "@azure/functions (request, response, context, model)",
    /node_modules\/@azure\/functions\/|webpack:\/\/@azure\/functions\//,
  ],
];
/** Node.js's own code, passed over to find the code that called it; alone, the runtime's share. */
const RUNTIME = [
  [
    "runtime: undici (fetch Request, Response, Headers, web streams)",
    /node:internal\/deps\/undici|node:internal\/webstreams/,
  ],
  ["runtime: node:http, net, streams, timers", /^node:/],
];

/** Where a bundle frame comes from, through the bundle's source maps (one per output file). */
const sourceMaps = new Map();
function sourceOf(frame) {
  const { url, lineNumber, columnNumber } = frame;
  if (!url.startsWith("file://")) return url;
  const path = fileURLToPath(url);
  if (!path.includes("/dist-bundle/") && !path.includes("/teamops-")) return path;
  if (!sourceMaps.has(path)) {
    let map;
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, "utf8")));
    } catch {
      map = undefined;
    }
    sourceMaps.set(path, map);
  }
  const map = sourceMaps.get(path);
  return map?.findEntry(lineNumber, columnNumber)?.originalSource ?? path;
}

/** CPU µs per feature over the samples taken between `from` and `to` (µs, CLOCK_MONOTONIC as V8 and hrtime use). */
function attribute(profile, from, to) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const featureOfNode = new Map();
  const featureOf = (id) => {
    if (featureOfNode.has(id)) return featureOfNode.get(id);
    const leaf = nodes.get(id);
    let feature;
    const name = leaf.callFrame.functionName;
    if (name === "(garbage collector)") feature = "garbage collection";
    else if (name === "(idle)") feature = null;
    else if (name === "(program)") feature = "runtime: V8 builtins and native";
    else {
      for (let at = id; at !== undefined && !feature; at = parent.get(at)) {
        const source = sourceOf(nodes.get(at).callFrame);
        feature = FEATURES.find(([, pattern]) => pattern.test(source))?.[0];
      }
      // Nothing of ours or of a known package: Node.js's own code (the nearest of its modules names it), another
      // package, or V8's builtins alone.
      for (let at = id; at !== undefined && !feature; at = parent.get(at)) {
        const source = sourceOf(nodes.get(at).callFrame);
        feature = RUNTIME.find(([, pattern]) => pattern.test(source))?.[0];
        if (!feature && source !== "") feature = "other packages";
      }
      feature ??= "runtime: V8 builtins and native";
    }
    featureOfNode.set(id, feature);
    return feature;
  };
  const totals = {};
  let time = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    time += delta;
    if (time < from || time > to) return;
    const feature = featureOf(id);
    if (feature) totals[feature] = (totals[feature] ?? 0) + delta;
  });
  return totals;
}

const hrtimeMicros = () => Number(process.hrtime.bigint() / 1000n);

const harness = await startHarness("profile");
const { devDir, started, store, ingestion, streaming } = harness;
try {
  const runnerEnv = await benchRunnerEnv(store.match[1], devDir);
  const { ensureDevKeys, mintDevToken } = await import("../dist/local/devIdentity.js");
  const keys = await ensureDevKeys(devDir);
  const token = await mintDevToken({ app: true }, keys);
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const frame = [process.env.NODE_OPTIONS, "--experimental-async-context-frame"].filter(Boolean).join(" ");
  const deployed = {
    NODE_OPTIONS: frame,
    APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${randomUUID()};IngestionEndpoint=${ingestion.url}`,
    NODE_EXTRA_CA_CERTS: ingestion.certFile,
  };
  const sides = {
    ours: deployed,
    peer: { NODE_OPTIONS: frame, AzureWebJobsScriptRoot: PEER_ROOT },
    streams: { ...deployed, AzureWebJobsScriptRoot: streaming.root },
  };
  const results = {};
  for (const request of ["create", "read"]) {
    for (const [side, env] of Object.entries(sides)) {
      const dir = join(devDir, `${side}-${request}`);
      const runner = await startNode(
        [
          "--cpu-prof",
          `--cpu-prof-dir=${dir}`,
          `--cpu-prof-interval=${INTERVAL_US}`,
          join(root, "dist/local/runner.js"),
        ],
        {
          env: { ...runnerEnv, ...env },
          ready: /listening on (http:\/\/\S+)/,
        },
      );
      started.push(runner);
      const base = `${runner.match[1]}/teams/${TEAM}/operations`;
      const created = await fetch(base, { method: "POST", headers, body: BODY });
      if (created.status !== 201) throw new Error(`${side}: create answered ${created.status}`);
      const { id } = await created.json();
      const options =
        request === "create" ? { url: base, method: "POST", headers, body: BODY } : { url: `${base}/${id}`, headers };
      await autocannon({ ...options, connections: CONNECTIONS, duration: 2 });
      const from = hrtimeMicros();
      const cpuBefore = cpuMicros(runner.child.pid);
      const run = await autocannon({ ...options, connections: CONNECTIONS, duration: SECONDS });
      const cpu = cpuMicros(runner.child.pid) - cpuBefore;
      const to = hrtimeMicros();
      await runner.stop();
      started.splice(started.indexOf(runner), 1);
      const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
      if (!file) throw new Error(`${side}: no CPU profile was written`);
      const profile = JSON.parse(readFileSync(join(dir, file), "utf8"));
      // The samples give each feature's share; the process's CPU time (/proc), what a request costs in all (under
      // load a sample is taken whether or not the process has the CPU, so sample time is not CPU time).
      const totals = attribute(profile, from, to);
      const sampled = Object.values(totals).reduce((a, b) => a + b, 0);
      const requests = run.requests.total;
      const cpuPerRequest = cpu / requests;
      results[`${side}-${request}`] = {
        requests,
        rps: run.requests.average,
        bad: run.non2xx + run.errors + run.timeouts,
        cpuUsPerRequest: cpuPerRequest,
        usPerRequest: Object.fromEntries(
          Object.entries(totals).map(([feature, us]) => [feature, (us / sampled) * cpuPerRequest]),
        ),
      };
      process.stderr.write(`profile: ${side} ${request}: ${requests} requests\n`);
    }
  }

  const features = [
    ...FEATURES.map(([name]) => name),
    "garbage collection",
    ...RUNTIME.map(([name]) => name),
    "runtime: V8 builtins and native",
    "other packages",
  ];
  const cell = (key, feature) => results[key].usPerRequest[feature] ?? 0;
  const total = (key) => Object.values(results[key].usPerRequest).reduce((a, b) => a + b, 0);
  const lines = [
    "| feature | POST ours | POST peer | POST Δ | GET ours | GET peer | GET Δ | POST streams | GET streams |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const feature of features) {
    const values = ["create", "read"].flatMap((r) => {
      const [a, b] = [cell(`ours-${r}`, feature), cell(`peer-${r}`, feature)];
      return [fmt(a, 0), fmt(b, 0), fmt(a - b, 0)];
    });
    values.push(fmt(cell("streams-create", feature), 0), fmt(cell("streams-read", feature), 0));
    lines.push(`| ${feature} | ${values.join(" | ")} |`);
  }
  const totals = ["create", "read"].flatMap((r) => {
    const [a, b] = [total(`ours-${r}`), total(`peer-${r}`)];
    return [fmt(a, 0), fmt(b, 0), fmt(a - b, 0)];
  });
  totals.push(fmt(total("streams-create"), 0), fmt(total("streams-read"), 0));
  lines.push(`| **CPU µs per request, in all** | ${totals.join(" | ")} |`);
  console.log(lines.join("\n"));
  console.log(
    `requests: ${Object.entries(results)
      .map(([k, r]) => `${k} ${r.requests} (${fmt(r.rps, 0)}/s, ${r.bad} bad)`)
      .join(", ")}`,
  );
  console.log(JSON.stringify(results));
} finally {
  await harness.close();
}
