// `npm run bench`: every section in one run, each beside its baseline, printed as
// one table. Sections run in child processes so they do not disturb each other.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { repoRoot as root, unbundledApp } from "./app-roots.js";
import { fmt } from "./stats.js";

// Application Insights as configured in Azure; nothing listens there, and a cold start sends nothing.
const TELEMETRY = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${randomUUID()};IngestionEndpoint=https://127.0.0.1:9/`,
};

function section(script, args = [], env = {}) {
  process.stderr.write(`bench: ${script} ...\n`);
  const out = execFileSync(process.execPath, [join(root, "bench", script), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 24,
  });
  return JSON.parse(out.trim().split("\n").pop());
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
  const size = section("size.js");

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

  const p = pipeline;
  const st = p.stages;
  versus(
    "1",
    "create in process, median µs",
    p.pipeline.median,
    p.baseline.median,
    1,
    "< 100 µs",
    p.pipeline.median < 100,
  );
  versus("1", "create in process, p99 µs", p.pipeline.p99, p.baseline.p99);
  row("1", "  stage auth (repeated token, remembered), median µs", fmt(st.auth.median), "", "");
  versus("1", "  stage parsing (readJsonBody), median µs", st.parsing.median, st.jsonParse.median);
  row("1", "  stage validation (parseCreateBody), median µs", fmt(st.validationOnly.median), "", "");
  row("1", "  stage mapping (document + representation), median µs", fmt(st.mapping.median), "", "");
  row("1", "  stage serialisation (JSON.stringify), median µs", fmt(st.serialisation.median), "", "");
  for (const [name, label] of [
    ["create", "POST create"],
    ["read", "GET by id"],
  ]) {
    const { app, bare, baseline } = e2e[name];
    versus("2", `${label}, req/s`, app.rps, baseline.rps, 0, "≥ 0.85", app.rps / baseline.rps >= 0.85);
    versus("2", `${label}, p99 ms`, app.p99, baseline.p99, 0);
    versus("2", `  ${label}, our handlers in a bare node:http host (diagnostic), req/s`, bare.rps, baseline.rps, 0);
  }
  for (const [name, base, label, goal] of [
    ["bundled", "baseline-bundled", "cold start, bundled (shipped)", true],
    ["unbundled", "baseline", "cold start, unbundled (tsc output)", true],
    ["bundled-telemetry", "baseline-bundled", "cold start, bundled, Application Insights configured", false],
  ]) {
    const share = cold[name].wall - cold[base].wall;
    versus(
      "3",
      `${label}, median ms (share ${fmt(share, 0)} ms)`,
      cold[name].wall,
      cold[base].wall,
      0,
      goal ? "share < 100 ms" : undefined,
      goal ? share < 100 : undefined,
    );
  }
  versus("3", "cold start, bundled vs the unbundled SDK baseline, ms", cold.bundled.wall, cold.baseline.wall, 0);
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
  row("5", "store cost per create / point read / list page", "on paper", "", "", "see docs/benchmarks.md");

  const header = ["§", "measure", "ours", "baseline", "ratio", "goal"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => String(c)[i >= 2 && i <= 4 ? "padStart" : "padEnd"](widths[i])).join(" | ")} |`;
  const cpu = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model;
  console.log(
    `\n${new Date().toISOString()}  node ${process.version}  ${cpus().length} × ${cpu}  load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  console.log(
    `pipeline: ${p.iterations} creates × 3 rounds (best round); e2e: autocannon ${e2e.connections} connections, ${e2e.duration} s × ${e2e.rounds} rounds; cold start: median of ${cold.baseline.runs} fresh processes`,
  );
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i >= 2 && i <= 4 ? "-".repeat(w + 1) + ":" : "-".repeat(w + 2))).join("|")}|`);
  for (const r of rows) console.log(line(r));
} finally {
  unbundled.remove();
}
