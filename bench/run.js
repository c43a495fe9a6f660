// `npm run bench`: every section in one run, each beside its baseline, printed as
// one table. Sections run in child processes so they do not disturb each other.
// The "proposal" rows measure product-code changes prototyped on a throw-away copy
// of dist/ (bench/prototypes/); BENCH_PROTOTYPES=0 skips them.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { applyAjvStandalone } from "./prototypes/ajv-standalone.js";
import { copyApp } from "./prototypes/copy-app.js";
import { fmt } from "./stats.js";

const root = new URL("..", import.meta.url).pathname;
const PROTOTYPES = process.env.BENCH_PROTOTYPES !== "0";

function section(script, args = [], env = {}) {
  process.stderr.write(`bench: ${script} ${args.length ? "(" + args.length + " variants) " : ""}...\n`);
  const out = execFileSync(process.execPath, [join(root, "bench", script), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 24,
  });
  return JSON.parse(out.trim().split("\n").pop());
}

const temp = [];
let proto;
if (PROTOTYPES) {
  try {
    proto = copyApp(root, "proposal");
    temp.push(proto);
    await applyAjvStandalone(proto);
    execFileSync(process.execPath, [join(root, "scripts/bundle.js"), join(proto, "bundle"), proto], {
      stdio: "ignore",
    });
  } catch (error) {
    process.stderr.write(`bench: prototypes skipped (${error.message})\n`);
    proto = undefined;
  }
}

try {
  const pipeline = section("pipeline.js");
  const pipelineProto = proto && section("pipeline.js", [], { BENCH_APP_ROOT: proto });
  const e2e = section("e2e.js", proto ? [proto] : []);
  const cold = section("cold-start.js", [
    JSON.stringify([
      { name: "app", appRoot: root },
      { name: "app-bundled", appRoot: join(root, "dist-bundle") },
      ...(proto
        ? [
            { name: "proposal", appRoot: proto },
            { name: "proposal-bundled", appRoot: join(proto, "bundle") },
          ]
        : []),
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

  const p = pipeline;
  row(
    "1",
    "create in process, median µs",
    fmt(p.pipeline.median),
    fmt(p.baseline.median),
    ratio(p.pipeline.median, p.baseline.median),
    "< 100 µs",
    p.pipeline.median < 100,
  );
  row(
    "1",
    "create in process, p99 µs",
    fmt(p.pipeline.p99),
    fmt(p.baseline.p99),
    ratio(p.pipeline.p99, p.baseline.p99),
  );
  const st = p.stages;
  row("1", "  stage auth (repeated token, remembered), median µs", fmt(st.auth.median), "", "");
  row(
    "1",
    "  stage parsing (readJsonBody), median µs",
    fmt(st.parsing.median),
    fmt(st.jsonParse.median),
    ratio(st.parsing.median, st.jsonParse.median),
  );
  row("1", "  stage validation (parseCreateBody), median µs", fmt(st.validationOnly.median), "", "");
  row("1", "  stage mapping (document + representation), median µs", fmt(st.mapping.median), "", "");
  row("1", "  stage serialisation (JSON.stringify), median µs", fmt(st.serialisation.median), "", "");
  if (pipelineProto) {
    const q = pipelineProto;
    row(
      "1",
      "proposal (AJV standalone), median µs",
      fmt(q.pipeline.median),
      fmt(q.baseline.median),
      ratio(q.pipeline.median, q.baseline.median),
      "< 100 µs",
      q.pipeline.median < 100,
    );
    row("1", "proposal, p99 µs", fmt(q.pipeline.p99), fmt(q.baseline.p99), ratio(q.pipeline.p99, q.baseline.p99));
    row("1", "  proposal stage auth, median µs", fmt(q.stages.auth.median), "", "");
    row("1", "  proposal stage validation (standalone), median µs", fmt(q.stages.validationOnly.median), "", "");
  }
  for (const [name, label] of [
    ["create", "POST create"],
    ["read", "GET by id"],
  ]) {
    for (const side of ["app", "proposal"]) {
      const r = e2e[name][side];
      if (!r) continue;
      const b = e2e[name].baseline;
      const tag = side === "app" ? "" : "proposal, ";
      row(
        "2",
        `${tag}${label}, req/s`,
        fmt(r.rps, 0),
        fmt(b.rps, 0),
        ratio(r.rps, b.rps),
        "≥ 0.85",
        r.rps / b.rps >= 0.85,
      );
      row("2", `${tag}${label}, p99 ms`, fmt(r.p99, 0), fmt(b.p99, 0), ratio(r.p99, b.p99));
    }
  }
  const share = (name, base) => cold[name] && cold[name].wall - cold[base].wall;
  for (const [name, base, label] of [
    ["app", "baseline", "cold start, unbundled (shipped today)"],
    ["app-bundled", "baseline-bundled", "cold start, bundled"],
    ["proposal", "baseline", "cold start, proposal unbundled"],
    ["proposal-bundled", "baseline-bundled", "cold start, proposal bundled"],
  ]) {
    if (!cold[name]) continue;
    const s = share(name, base);
    row(
      "3",
      `${label}, median ms (share ${fmt(s, 0)} ms)`,
      fmt(cold[name].wall, 0),
      fmt(cold[base].wall, 0),
      ratio(cold[name].wall, cold[base].wall),
      "share < 100 ms",
      s < 100,
    );
  }
  row(
    "3",
    "cold start, bundled vs the unbundled SDK baseline, ms",
    fmt(cold["app-bundled"].wall, 0),
    fmt(cold.baseline.wall, 0),
    ratio(cold["app-bundled"].wall, cold.baseline.wall),
  );
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
    `package zip MB, bundled (${size.bundled.files} files, ${mb(size.bundled.uncompressed)} MB)`,
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
    `\n${new Date().toISOString()}  node ${process.version}  ${cpus().length} × ${cpu}  load ${(await import("node:os"))
      .loadavg()
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
  for (const dir of temp) rmSync(dir, { recursive: true, force: true });
}
