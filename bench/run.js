// `npm run bench`: every section in one run, each beside its baseline, printed as one
// table; with BENCH_JSON set, the headline figures are also written there as JSON (the
// keys of FIGURES below, plus `node`, `load` and `loadAtEnd`). BENCH_QUICK=1 runs a short
// version (fewer iterations, rounds and samples, teams of 100 to 10,000 operations; no
// package size) that writes the same keys. Sections run in child processes so they do
// not disturb each other.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot as root, unbundledApp } from "./app-roots.js";
import { fmt } from "./stats.js";

const QUICK = process.env.BENCH_QUICK === "1";
const startedAt = Date.now();
const load = loadavg()[0];
// The short version's settings; any of them set in the environment wins.
const QUICK_SETTINGS = {
  BENCH_ITERATIONS: "3000",
  BENCH_ROUNDS: "2",
  BENCH_E2E_SECONDS: "1",
  BENCH_E2E_ROUNDS: "2",
  BENCH_E2E_WARMUP_SECONDS: "0.5",
  BENCH_COLD_RUNS: "3",
  BENCH_SCALE_SIZES: "100,1000,10000",
  BENCH_SCALE_SAMPLES: "3",
  SOAK_SECONDS: "10",
  SOAK_WARMUP_SECONDS: "3",
  SOAK_SAMPLE_SECONDS: "1",
};
const FULL_SETTINGS = { SOAK_SECONDS: "60", SOAK_WARMUP_SECONDS: "15", SOAK_SAMPLE_SECONDS: "5" };
const settings = { ...(QUICK ? QUICK_SETTINGS : FULL_SETTINGS), ...process.env };

// Application Insights as configured in Azure, Entra ID ingestion included; nothing listens there, and a cold
// start sends nothing.
const TELEMETRY = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${randomUUID()};IngestionEndpoint=https://127.0.0.1:9/`,
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "Authorization=AAD",
};

function section(script, args = [], env = {}) {
  process.stderr.write(`bench: ${script} ...\n`);
  const out = execFileSync(process.execPath, [join(root, "bench", script), ...args], {
    cwd: root,
    env: { ...settings, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 24,
  });
  return JSON.parse(out.trim().split("\n").pop());
}

/** `npm run soak`, short, HTTP and timers only (no Azurite): its report, read from the file it writes. */
function soak() {
  const dir = mkdtempSync(join(tmpdir(), "teamops-bench-soak-"));
  try {
    const report = join(dir, "soak.json");
    process.stderr.write("bench: soak.mjs ...\n");
    execFileSync(process.execPath, [join(root, "bench/soak.mjs")], {
      cwd: root,
      env: { ...settings, LOCAL_QUEUES: "off", SOAK_REPORT: report },
      stdio: ["ignore", "ignore", "inherit"],
    });
    return JSON.parse(readFileSync(report, "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const unbundled = unbundledApp();
try {
  const pipeline = section("pipeline.js");
  const e2e = section("e2e.js");
  const cold = section("cold-start.js", [
    JSON.stringify([
      { name: "bundled", appRoot: root },
      { name: "unbundled", appRoot: unbundled.root },
      { name: "bundled-telemetry", appRoot: root, env: TELEMETRY },
    ]),
  ]);
  const telemetryOptions = section("telemetry-options.js");
  const calls = section("store-calls.js");
  const scale = section("scale.js");
  const soaked = soak();
  const size = QUICK ? undefined : section("size.js");

  const p = pipeline;
  const st = p.stages;
  const guard = p.guard;
  const share = (name, base) => cold[name].wall - cold[base].wall;

  // The ladder's rungs, the main rounds' connections first.
  const rungs = Object.keys(e2e.ladder)
    .map(Number)
    .sort((a, b) => a - b);
  const ladderAt = (connections) => e2e.ladder[connections] ?? e2e.ladder[rungs.at(-1)];
  const sizes = scale.sizes;
  const [smallest, largest] = [sizes[0], sizes.at(-1)];
  const fanoutAt = (subscribers) => scale.fanout.find((f) => f.subscribers === subscribers) ?? {};
  const growth = (measure, part) => largest[measure][part] / smallest[measure][part];

  // The machine-readable figures: each a number (a ratio is ours over the baseline measured in the same run).
  const FIGURES = {
    createInProcessRatio: p.pipeline.median / p.baseline.median,
    bodyGuardRatio: guard[1].guard.median / guard[1].jsonParse.median,
    // Beside the peer, as deployed (telemetry on, the deployment's flag), in the same host and rounds.
    postVsPeerRatio: e2e.create.deployed.rps / e2e.create.peer.rps,
    getVsPeerRatio: e2e.read.deployed.rps / e2e.read.peer.rps,
    postCpuVsPeerRatio: e2e.create.deployed.cpuUsPerRequest / e2e.create.peer.cpuUsPerRequest,
    p99VsPeerRatio: ladderAt(50).deployed.p99 / ladderAt(50).peer.p99,
    postVsPeerRatioTelemetryOff: e2e.create.appFrame.rps / e2e.create.peer.rps,
    postBareVsPeerRatio: e2e.create.bare.rps / e2e.create.peerBare.rps,
    // The floor: bare node:http making the same single store call.
    postE2eRatio: e2e.create.app.rps / e2e.create.baseline.rps,
    getE2eRatio: e2e.read.app.rps / e2e.read.baseline.rps,
    postBareHostRatio: e2e.create.bare.rps / e2e.create.baseline.rps,
    getBareHostRatio: e2e.read.bare.rps / e2e.read.baseline.rps,
    postCpuPerRequestRatio: e2e.create.app.cpuUsPerRequest / e2e.create.baseline.cpuUsPerRequest,
    // Telemetry on over off: as run locally (plain Node.js 22), and as deployed (with the flag the deployment sets).
    postTelemetryRatio: e2e.create.appTelemetry.rps / e2e.create.app.rps,
    postTelemetryRatioDeployed: e2e.create.deployed.rps / e2e.create.appFrame.rps,
    // HTTP streams on over off, both as deployed.
    postStreamsRatio: e2e.create.streams.rps / e2e.create.deployed.rps,
    getStreamsRatio: e2e.read.streams.rps / e2e.read.deployed.rps,
    postStreamsCpuRatio: e2e.create.streams.cpuUsPerRequest / e2e.create.deployed.cpuUsPerRequest,
    // POST latency as deployed at 10, 50 and 100 connections, and the peer's p99.
    ...Object.fromEntries(
      [10, 50, 100].flatMap((c) => [
        [`latencyP50Ms${c}`, ladderAt(c).deployed.p50],
        [`latencyP99Ms${c}`, ladderAt(c).deployed.p99],
        [`peerLatencyP99Ms${c}`, ladderAt(c).peer.p99],
      ]),
    ),
    coldStartShareMs: share("bundled", "baseline-bundled"),
    coldStartShareTelemetryMs: share("bundled-telemetry", "baseline-bundled"),
    storeCallsPerCreate: calls.storeCallsPerCreate,
    storeCallsPerRead: calls.storeCallsPerRead,
    storeCallsPerListPage: calls.storeCallsPerListPage,
    // One team grown from the smallest size to the largest (scaleLargestTeam operations).
    scaleLargestTeam: largest.operations,
    listPageStoreCalls: Math.max(...sizes.map((s) => s.list.calls)),
    listPageMsLargest: largest.list.ms,
    listPageOwnMsLargest: largest.list.ownMs,
    listPageOwnMsGrowth: growth("list", "ownMs"),
    listPageStoreMsGrowth: growth("list", "storeMs"),
    countStoreCalls: Math.max(...sizes.map((s) => s.count.calls)),
    countOwnMsGrowth: growth("count", "ownMs"),
    countStoreMsGrowth: growth("count", "storeMs"),
    sweeperStoreCalls: Math.max(...sizes.map((s) => s.sweep.calls)),
    sweeperMsLargest: largest.sweep.ms,
    sweeperStaleRunStoreCallsMax: Math.max(...sizes.map((s) => s.sweepStale?.calls ?? 0)),
    // One change, 1, 100 and 1,000 subscribers on its team.
    fanoutLastDeliveryMs1: fanoutAt(1).lastMs,
    fanoutLastDeliveryMs100: fanoutAt(100).lastMs,
    fanoutLastDeliveryMs1000: fanoutAt(1000).lastMs,
    fanoutDeliveriesPerSecond1000: fanoutAt(1000).deliveriesPerSecond,
    fanoutMsPerSubscriberGrowth: fanoutAt(1000).lastMs / 1000 / (fanoutAt(100).lastMs / 100),
    fanoutSlowReceiverAddedMs: scale.slowReceiver.addedMs,
    fanoutSlowReceiverHeldMs: scale.slowReceiver.invocationMs,
    rssGrowthMiBPerMinute: soaked.rss.growthMiBPerMinute,
  };

  const rows = [];
  const ratio = (a, b) => (b ? `${fmt(a / b, 2)}` : "");
  const row = (sec, what, ours, base, r, goal, met) =>
    rows.push([
      sec,
      what,
      ours,
      base,
      r,
      goal === undefined ? "" : met === undefined ? goal : `${goal} ${met ? "✔" : "✘"}`,
    ]);
  // A measure beside its baseline: both formatted alike, and their ratio.
  const versus = (sec, what, ours, base, digits = 1, goal, met) =>
    row(sec, what, fmt(ours, digits), fmt(base, digits), ratio(ours, base), goal, met);
  const atMost = (limit) => (value) => value <= limit;
  const atLeast = (limit) => (value) => value >= limit;
  const goalOf = (label, test, value) => [label, test(value)];

  versus(
    "1",
    "create in process, median µs",
    p.pipeline.median,
    p.baseline.median,
    1,
    ...goalOf("≤ 2×", atMost(2), FIGURES.createInProcessRatio),
  );
  versus("1", "create in process, p99 µs", p.pipeline.p99, p.baseline.p99);
  row("1", "  stage auth (repeated token, remembered), median µs", fmt(st.auth.median), "", "");
  versus("1", "  stage parsing (readJsonBody: stream, guard), median µs", st.parsing.median, st.jsonParse.median);
  row("1", "  stage validation (parseCreateBody), median µs", fmt(st.validationOnly.median), "", "");
  row("1", "  stage mapping (document + representation), median µs", fmt(st.mapping.median), "", "");
  row("1", "  stage serialisation (JSON.stringify), median µs", fmt(st.serialisation.median), "", "");
  for (const times of Object.keys(guard)) {
    const g = guard[times];
    versus(
      "1",
      `body guard (parseJsonBody) vs decode + JSON.parse, ${g.bytes} bytes, median µs`,
      g.guard.median,
      g.jsonParse.median,
      2,
      ...(times === "1" ? goalOf("≤ 3×", atMost(3), FIGURES.bodyGuardRatio) : []),
    );
  }
  // §2 beside the peer: ours as deployed (telemetry on, the deployment's flag) and the peer, in one host.
  for (const [name, label, goal] of [
    ["create", "POST create", 0.85],
    ["read", "GET by id", 0.9],
  ]) {
    const e = e2e[name];
    versus(
      "2",
      `${label}, as deployed vs the peer, req/s`,
      e.deployed.rps,
      e.peer.rps,
      0,
      ...goalOf(`≥ ${goal}`, atLeast(goal), e.deployed.rps / e.peer.rps),
    );
    versus(
      "2",
      `  ${label}, server CPU µs per request`,
      e.deployed.cpuUsPerRequest,
      e.peer.cpuUsPerRequest,
      0,
      ...(name === "create" ? goalOf("≤ 1.25×", atMost(1.25), FIGURES.postCpuVsPeerRatio) : []),
    );
    versus("2", `  ${label}, p99 ms (${e2e.connections} connections)`, e.deployed.p99, e.peer.p99, 0);
  }
  versus(
    "2",
    "  POST create, telemetry off (both with the flag) vs the peer, req/s",
    e2e.create.appFrame.rps,
    e2e.create.peer.rps,
    0,
  );
  versus(
    "2",
    "  POST create, our handlers vs the peer's, bare host, req/s",
    e2e.create.bare.rps,
    e2e.create.peerBare.rps,
    0,
  );
  for (const connections of rungs) {
    const at = e2e.ladder[connections];
    versus(
      "2",
      `POST at ${connections} connections, p99 ms (p50 ${fmt(at.deployed.p50, 0)} / ${fmt(at.peer.p50, 0)})`,
      at.deployed.p99,
      at.peer.p99,
      0,
      ...(connections === 50 ? goalOf("≤ 1.5×", atMost(1.5), FIGURES.p99VsPeerRatio) : []),
    );
  }
  // The floor: bare node:http making the same single call (no goal for the local host against it).
  for (const [name, label, bare] of [
    ["create", "POST create", 0.9],
    ["read", "GET by id", 0.95],
  ]) {
    const { app, bare: host, baseline } = e2e[name];
    versus("2", `${label}, local host (telemetry off) vs bare node:http, req/s`, app.rps, baseline.rps, 0);
    versus("2", `  ${label}, p99 ms`, app.p99, baseline.p99, 0);
    versus(
      "2",
      `  ${label}, our handlers in a bare node:http host, req/s`,
      host.rps,
      baseline.rps,
      0,
      ...goalOf(`≥ ${bare}`, atLeast(bare), host.rps / baseline.rps),
    );
    versus("2", `  ${label}, server CPU µs per request`, app.cpuUsPerRequest, baseline.cpuUsPerRequest, 0);
    versus("2", `  ${label}, bare host CPU µs per request`, host.cpuUsPerRequest, baseline.cpuUsPerRequest, 0);
  }
  const withTelemetry = e2e.create.appTelemetry;
  versus(
    "2",
    "POST create, Application Insights on vs off, as run locally, req/s",
    withTelemetry.rps,
    e2e.create.app.rps,
    0,
  );
  versus(
    "2",
    "  the same, server CPU µs per request",
    withTelemetry.cpuUsPerRequest,
    e2e.create.app.cpuUsPerRequest,
    0,
  );
  versus("2", "  the same, runner RSS MiB after the POST rounds", e2e.rss.appTelemetry, e2e.rss.app, 0);
  versus(
    "2",
    "POST create, Application Insights on vs off, as deployed (the flag), req/s",
    e2e.create.deployed.rps,
    e2e.create.appFrame.rps,
    0,
    ...goalOf("≥ 0.9", atLeast(0.9), FIGURES.postTelemetryRatioDeployed),
  );
  versus(
    "2",
    "  the same, server CPU µs per request",
    e2e.create.deployed.cpuUsPerRequest,
    e2e.create.appFrame.cpuUsPerRequest,
    0,
  );
  versus(
    "2",
    "  the same, runner RSS MiB after the POST rounds",
    e2e.rss.deployed,
    e2e.rss.appFrame,
    0,
    ...goalOf("≤ 1.2×", atMost(1.2), e2e.rss.deployed / e2e.rss.appFrame),
  );
  versus("2", "  telemetry off, with the flag vs without, req/s", e2e.create.appFrame.rps, e2e.create.app.rps, 0);
  row(
    "2",
    `  telemetry exported: ${e2e.ingestion.requests} requests, ${fmt(e2e.ingestion.bytes / 1024, 0)} KiB`,
    "",
    "",
    "",
  );
  for (const [name, label] of [
    ["create", "POST create"],
    ["read", "GET by id"],
  ]) {
    const e = e2e[name];
    versus("2", `${label}, HTTP streams on vs off (as deployed), req/s`, e.streams.rps, e.deployed.rps, 0);
    versus("2", `  the same, server CPU µs per request`, e.streams.cpuUsPerRequest, e.deployed.cpuUsPerRequest, 0);
    versus("2", `  the same, p99 ms`, e.streams.p99, e.deployed.p99, 0);
  }
  for (const [name, base, label, goal] of [
    ["bundled", "baseline-bundled", "cold start, bundled (shipped)", true],
    ["unbundled", "baseline", "cold start, unbundled (tsc output)", false],
    ["bundled-telemetry", "baseline-bundled", "cold start, bundled, Application Insights configured", true],
  ]) {
    versus(
      "3",
      `${label}, median ms (share ${fmt(share(name, base), 0)} ms)`,
      cold[name].wall,
      cold[base].wall,
      0,
      ...(goal ? goalOf("share < 100 ms", (v) => v < 100, share(name, base)) : []),
    );
  }
  for (const [name, label] of [
    ["distroAsBundledBefore", "applicationinsights 3.17 (its distro), bundled as before"],
    ["distroEsModules", "applicationinsights 3.17, OpenTelemetry from its ES modules"],
    ["exporterPipeline", "the Azure Monitor exporter, minimal logs + metrics pipeline (used)"],
  ]) {
    const option = telemetryOptions[name];
    row(
      "3",
      `  telemetry option alone: ${label}, added ms (${fmt(option.bytes / 1048576, 1)} MB)`,
      fmt(option.addedMs, 0),
      "",
      "",
    );
  }
  if (size) {
    const mb = (n) => fmt(n / 1048576, 1);
    row(
      "4",
      `package zip MB, unbundled (${size.unbundled.files} files, ${mb(size.unbundled.uncompressed)} MB)`,
      mb(size.unbundled.zip),
      "",
      "",
    );
    row(
      "4",
      `package zip MB, bundled, shipped (${size.bundled.files} files, ${mb(size.bundled.uncompressed)} MB)`,
      mb(size.bundled.zip),
      mb(size.unbundled.zip),
      ratio(size.bundled.zip, size.unbundled.zip),
    );
  }
  row(
    "5",
    "store round trips per create / read by id",
    `${calls.storeCallsPerCreate} / ${calls.storeCallsPerRead}`,
    "1 / 1",
    "",
  );
  row(
    "5",
    "store round trips per list page",
    String(calls.storeCallsPerListPage),
    "1",
    "",
    ...goalOf("1", (v) => v === 1, calls.storeCallsPerListPage),
  );
  row(
    "5",
    "  with $count=true: more pages follow / the page holds all",
    `${calls.storeCallsPerCountedPage} / ${calls.storeCallsPerCountedWholePage}`,
    "",
    "",
  );
  const ms = (n) => fmt(n, n < 10 ? 1 : 0);
  for (const size of sizes) {
    const n = size.operations.toLocaleString("en-US");
    const { list, listOrdered, count, sweep, sweepStale } = size;
    row(
      "7",
      `team of ${n}: list page ms, store ms / ours (round trips)`,
      ms(list.ms),
      `${ms(list.storeMs)} / ${ms(list.ownMs)}`,
      `${list.calls}`,
    );
    row(
      "7",
      `  list page in $orderby order`,
      ms(listOrdered.ms),
      `${ms(listOrdered.storeMs)} / ${ms(listOrdered.ownMs)}`,
      `${listOrdered.calls}`,
    );
    row("7", `  $count`, ms(count.ms), `${ms(count.storeMs)} / ${ms(count.ownMs)}`, `${count.calls}`);
    row(
      "7",
      `  sweeper run, nothing stale`,
      ms(sweep.ms),
      `${ms(sweep.storeMs)} / ${ms(sweep.ownMs)}`,
      `${sweep.calls}`,
    );
    if (sweepStale)
      row(
        "7",
        `  sweeper run, every running one stale: ${sweepStale.failed} failed`,
        ms(sweepStale.ms),
        `${ms(sweepStale.storeMs)} / ${ms(sweepStale.ms - sweepStale.storeMs)}`,
        `${sweepStale.calls}`,
      );
  }
  row(
    "7",
    `list page, ours at ${largest.operations.toLocaleString("en-US")} over at ${smallest.operations.toLocaleString("en-US")} (store: ${fmt(FIGURES.listPageStoreMsGrowth, 1)}×)`,
    fmt(FIGURES.listPageOwnMsGrowth, 2),
    "",
    "",
    ...goalOf("flat", (v) => v <= 1.5, FIGURES.listPageOwnMsGrowth),
  );
  row(
    "7",
    "list page round trips, every size",
    String(FIGURES.listPageStoreCalls),
    "1",
    "",
    ...goalOf("1", (v) => v === 1, FIGURES.listPageStoreCalls),
  );
  for (const f of scale.fanout) {
    row(
      "7",
      `fan-out to ${f.subscribers} subscribers: first / last delivery ms (${fmt(f.deliveriesPerSecond, 0)}/s, ${f.deliveries} POSTs)`,
      `${ms(f.firstMs)} / ${ms(f.lastMs)}`,
      "",
      "",
    );
  }
  row(
    "7",
    "  last delivery per subscriber, 1,000 over 100",
    fmt(FIGURES.fanoutMsPerSubscriberGrowth, 2),
    "",
    "",
    ...goalOf("≤ 1 (linear)", (v) => v <= 1.1, FIGURES.fanoutMsPerSubscriberGrowth),
  );
  row(
    "7",
    `  ${scale.slowReceiver.fastSubscribers} subscribers beside one ${scale.slowReceiver.slowMs} ms slow: last delivery ms (invocation held ${ms(scale.slowReceiver.invocationMs)} ms)`,
    ms(scale.slowReceiver.lastFastMsBeside),
    ms(scale.slowReceiver.lastFastMsAlone),
    ms(scale.slowReceiver.addedMs),
    ...goalOf("no head-of-line", (v) => v < scale.slowReceiver.slowMs / 4, scale.slowReceiver.addedMs),
  );
  row(
    "6",
    `soak ${soaked.seconds} s (${Math.round(soaked.requestsPerSecond)} req/s, mixed): RSS growth MiB per minute`,
    fmt(FIGURES.rssGrowthMiBPerMinute, 1),
    "",
    "",
  );
  row(
    "6",
    `  RSS start / end / max (${soaked.requests} requests, ${soaked.connectionErrors + soaked.timeouts} errors)`,
    `${soaked.rss.start} / ${soaked.rss.end} / ${soaked.rss.max}`,
    "",
    "",
  );

  const header = ["§", "measure", "ours", "baseline", "ratio", "goal"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => String(c)[i >= 2 && i <= 4 ? "padStart" : "padEnd"](widths[i])).join(" | ")} |`;
  const cpu = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model;
  console.log(
    `\n${new Date().toISOString()}  node ${process.version}  ${cpus().length} × ${cpu}  load ${fmt(load, 2)} at start, ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} at end  ${QUICK ? "BENCH_QUICK " : ""}${Math.round((Date.now() - startedAt) / 1000)} s`,
  );
  console.log(
    `pipeline: ${p.iterations} creates × ${p.rounds.pipeline.length} rounds (best round); e2e: autocannon ${e2e.connections} connections, ${e2e.duration} s × ${e2e.rounds} rounds; cold start: median of ${cold.baseline.runs} fresh processes; scale: median of ${scale.samples}`,
  );
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i >= 2 && i <= 4 ? "-".repeat(w + 1) + ":" : "-".repeat(w + 2))).join("|")}|`);
  for (const r of rows) console.log(line(r));

  if (process.env.BENCH_JSON) {
    const loadAtEnd = Number(loadavg()[0].toFixed(2));
    writeFileSync(
      process.env.BENCH_JSON,
      JSON.stringify({ ...FIGURES, node: process.version, load, loadAtEnd }, null, 2) + "\n",
    );
    console.log(`\nfigures written to ${process.env.BENCH_JSON}`);
  }
} finally {
  unbundled.remove();
}
