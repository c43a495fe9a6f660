// Section 3, telemetry options side by side: what starting each way of sending the
// app's telemetry adds to a fresh process, each bundled as the app is bundled. A fresh
// process per sample, options interleaved; wall time from spawn to exit, median, minus
// that of a process that starts nothing. Each one starts, records one event and one
// metric (nothing is sent: the process exits before an export), then exits.
//   BENCH_COLD_RUNS (default 15); prints JSON.
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { bundleOptions } from "../scripts/bundle-options.js";
import { median } from "./stats.js";

const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 15);
const root = new URL("..", import.meta.url).pathname;
const CONNECTION_STRING = `InstrumentationKey=${randomUUID()};IngestionEndpoint=https://127.0.0.1:9/`;

const DISTRO = `
  const { default: appInsights } = await import("applicationinsights");
  appInsights.setup(process.env.APPLICATIONINSIGHTS_CONNECTION_STRING)
    .setAutoCollectRequests(false).setAutoCollectConsole(false).setAutoCollectPerformance(false, false)
    .setAutoCollectExceptions(true).setAutoCollectDependencies(true).setSendLiveMetrics(false)
    .setUseDiskRetryCaching(false);
  appInsights.start();
  appInsights.defaultClient.trackEvent({ name: "OperationCreated", properties: { status: "notStarted" } });
  appInsights.defaultClient.trackMetric({ name: "StoreRequestCharge", value: 1, properties: { storeOperation: "create" } });`;
const PIPELINE = `
  const { startPipeline } = await import("./dist/shared/telemetryPipeline.js");
  const pipeline = startPipeline({ connectionString: process.env.APPLICATIONINSIGHTS_CONNECTION_STRING,
    credential: undefined, serviceName: "team-operations-api" });
  pipeline.event("OperationCreated", { status: "notStarted" }, undefined);
  pipeline.metric("StoreRequestCharge", 1, { storeOperation: "create" });`;
// How the app was bundled before: OpenTelemetry's CommonJS builds, names kept.
const BEFORE = { plugins: [], minify: true, keepNames: true };

const options = [
  { name: "none", code: "" },
  { name: "distroAsBundledBefore", code: DISTRO, settings: BEFORE },
  { name: "distroEsModules", code: DISTRO },
  { name: "exporterPipeline", code: PIPELINE },
];

const dir = mkdtempSync(join(tmpdir(), "teamops-bench-telemetry-"));
try {
  for (const option of options) {
    option.file = join(dir, `${option.name}.mjs`);
    const result = await build({
      ...bundleOptions,
      ...option.settings,
      stdin: { contents: `${option.code}\nprocess.exit(0);\n`, resolveDir: root, sourcefile: `${option.name}.mjs` },
      outfile: option.file,
      metafile: true,
    });
    option.bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  }
  const env = { ...process.env, APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION_STRING };
  const once = (option) => {
    const started = process.hrtime.bigint();
    const child = spawnSync(process.execPath, [option.file], { env, encoding: "utf8" });
    if (child.status !== 0) throw new Error(`${option.name} exited with ${child.status}: ${child.stderr.slice(-500)}`);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  for (const option of options) once(option); // the file system cache
  const samples = Object.fromEntries(options.map((o) => [o.name, []]));
  for (let run = 0; run < RUNS; run++) for (const option of options) samples[option.name].push(once(option));
  const none = median(samples.none);
  const out = {};
  for (const option of options.slice(1)) {
    out[option.name] = {
      wall: median(samples[option.name]),
      addedMs: median(samples[option.name]) - none,
      bytes: option.bytes,
    };
  }
  process.stdout.write(JSON.stringify({ runs: RUNS, none, ...out }) + "\n");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
