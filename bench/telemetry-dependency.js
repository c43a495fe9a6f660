// What a dependency costs in the app's telemetry pipeline: CPU per request of what a POST create reports (one event,
// the two store metrics), without and with the store call's dependency span, exported to an ingestion endpoint on
// loopback. Each variant runs in a fresh process of its own (the exporter's TLS trust comes from NODE_EXTRA_CA_CERTS),
// variants interleaved, exports included (the pipelines are flushed before the CPU is read). Not part of
// `npm run bench`; docs/benchmarks.md cites it.
//   node bench/telemetry-dependency.js      (after npm run build)   BENCH_ITERATIONS (default 20000), BENCH_ROUNDS (3)
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { startIngestion } from "./ingestion.js";

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

if (process.argv[2] === "child") {
  const withDependency = process.argv[3] === "dependency";
  const { startPipeline } = await import("../dist/shared/telemetryPipeline.js");
  const pipeline = startPipeline({
    connectionString: process.env.APPLICATIONINSIGHTS_CONNECTION_STRING,
    credential: undefined,
    serviceName: "team-operations-api",
    metricIntervalMs: 60_000,
  });
  const traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const dimensions = { storeOperation: "create", statusCode: "201", trigger: "HTTP" };
  const report = (i) => {
    pipeline.event(
      "OperationCreated",
      { "request-id": `r-${i}`, trigger: "HTTP", operationType: "cloneTeam" },
      traceParent,
    );
    pipeline.metric("StoreRequestCharge", 6.3, dimensions);
    pipeline.metric("StoreLatencyMs", 4.2, dimensions);
    if (withDependency) {
      pipeline.dependency(
        {
          name: "create teamops",
          kind: "client",
          startTime: Date.now() - 4,
          durationMs: 4.2,
          success: true,
          attributes: {
            "db.system.name": "azure.cosmosdb",
            "db.namespace": "teamops",
            "db.operation.name": "create",
            "server.address": "cosmos-example.documents.azure.com",
            "db.response.status_code": "201",
            "azure.cosmosdb.operation.request_charge": 6.3,
            "azure.cosmosdb.activity_id": "5f0c7b6e-6a4e-4b52-9d5b-1a2b3c4d5e6f",
          },
        },
        traceParent,
      );
    }
  };
  for (let i = 0; i < 2_000; i++) report(i); // warm-up
  await pipeline.flush();
  const before = process.cpuUsage();
  for (let i = 0; i < ITERATIONS; i++) {
    report(i);
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 0)); // let the batch processors export, as between requests
  }
  await pipeline.flush();
  const used = process.cpuUsage(before);
  console.log(JSON.stringify({ cpuUsPerRequest: (used.user + used.system) / ITERATIONS }));
  process.exit(0);
}

const ingestion = await startIngestion();
const env = {
  ...process.env,
  APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${randomUUID()};IngestionEndpoint=${ingestion.url}`,
  NODE_EXTRA_CA_CERTS: ingestion.certFile,
};
const runs = { without: [], with: [] };
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, arg] of [
      ["without", "none"],
      ["with", "dependency"],
    ]) {
      // Not execFileSync: the ingestion endpoint answers from this process.
      const { stdout: out } = await promisify(execFile)(
        process.execPath,
        [new URL(import.meta.url).pathname, "child", arg],
        { env, encoding: "utf8" },
      );
      runs[name].push(JSON.parse(out.trim().split("\n").pop()).cpuUsPerRequest);
    }
  }
} finally {
  await ingestion.close();
}
const best = (values) => Math.min(...values);
console.log(
  JSON.stringify({
    withoutDependencyCpuUs: best(runs.without),
    withDependencyCpuUs: best(runs.with),
    dependencyCpuUs: best(runs.with) - best(runs.without),
    runs,
    exported: { requests: ingestion.requests(), bytes: ingestion.bytes() },
  }),
);
