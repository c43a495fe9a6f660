// Section 3: cold start. Spawns fresh processes in turn (baseline, then each app
// variant, round after round, so noise hits all alike) against one embedded store,
// and reports the median wall time from spawn to exit of each.
//   variants: [{ name, appRoot, env? }] as JSON in argv[2]; prints JSON.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStore } from "./processes.js";
import { median } from "./stats.js";

const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 15);
const root = new URL("..", import.meta.url).pathname;
const variants = JSON.parse(process.argv[2] ?? `[{"name":"app","appRoot":${JSON.stringify(root)}}]`);

function once(args, env) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    child.once("exit", (code) => {
      const wall = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) return reject(new Error(`${args.join(" ")} exited with ${code}: ${err}`));
      resolve({ wall, ...JSON.parse(out) });
    });
  });
}

const devDir = mkdtempSync(join(tmpdir(), "teamops-bench-cold-"));
// The baseline bundled the same way as scripts/bundle.js bundles the app, for a like-for-like bundled comparison.
const { build } = await import("esbuild");
const { bundleOptions } = await import("../scripts/bundle-options.js");
await build({
  ...bundleOptions,
  entryPoints: [join(root, "bench/cold-start/load-baseline.js")],
  outfile: join(devDir, "baseline-bundle/load-baseline.mjs"),
});
const store = await startStore();
try {
  const { LOCAL_COSMOS_KEY } = await import("../dist/local/embeddedCosmos.js");
  const { ensureDevKeys } = await import("../dist/local/devIdentity.js");
  const keys = await ensureDevKeys(devDir);
  const env = {
    ...process.env,
    COSMOS_ENDPOINT: store.match[1],
    COSMOS_KEY: LOCAL_COSMOS_KEY,
    COSMOS_DATABASE: "teamops",
    COSMOS_CONTAINER: "operations",
    AUTH_AUDIENCES: "api://team-operations-local",
    AUTH_TENANTS: "*",
    AUTH_JWKS_FILE: keys.jwksFile,
  };
  const jobs = [
    { name: "baseline", args: [join(root, "bench/cold-start/load-baseline.js")] },
    { name: "baseline-bundled", args: [join(devDir, "baseline-bundle/load-baseline.mjs")] },
    ...variants.map((v) => ({
      name: v.name,
      args: [join(root, "bench/cold-start/load-app.js"), v.appRoot],
      env: v.env,
    })),
  ];
  for (const job of jobs) await once(job.args, { ...env, ...job.env }); // warm the file system cache
  const samples = Object.fromEntries(jobs.map((j) => [j.name, []]));
  for (let run = 0; run < RUNS; run++)
    for (const job of jobs) samples[job.name].push(await once(job.args, { ...env, ...job.env }));
  const out = {};
  for (const [name, runs] of Object.entries(samples)) {
    out[name] = {
      wall: median(runs.map((r) => r.wall)),
      loaded: median(runs.map((r) => r.loaded)),
      ready: median(runs.map((r) => r.ready)),
      runs: runs.length,
    };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
} finally {
  await store.stop();
  rmSync(devDir, { recursive: true, force: true });
}
