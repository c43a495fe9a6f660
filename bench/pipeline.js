// Section 1: the request pipeline in process. Drives the real createOperation
// handler (tsc's dist/, loaded exactly as the Functions host loads an app; the
// bundle is the same code, but the in-memory store is installed through dist/'s
// store module, which the bundle has its own copy of) with the
// store replaced by the tests' in-memory one, against a baseline handler that only
// parses and re-serialises the same body; then times each stage by calling the
// exported functions directly. Prints one JSON object on stdout.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import functions from "@azure/functions";
import { build } from "esbuild";
import { repoRoot, unbundledApp } from "./app-roots.js";
import { BODY, CREATE_BODY, TEAM } from "./request.js";
import { timeEach, timeEachSync } from "./stats.js";

const { HttpRequest, InvocationContext } = functions;
const app = unbundledApp();
const dist = (path) => pathToFileURL(join(repoRoot, "dist", path)).href;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20000);
const WARMUP = Math.min(5000, ITERATIONS);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/**
 * The in-memory store of the tests (test/support/memoryStore.ts), compiled into `dir` with its imports of the app's
 * modules pointing at dist/: the same module instances as the handlers', so the errors it throws are the ones the
 * service recognises.
 */
async function memoryStoreClass(dir) {
  const entry = join(repoRoot, "test/support/memoryStore.ts");
  const fromDist = {
    name: "app-modules-from-dist",
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.importer !== entry) return undefined;
        const source = relative(repoRoot, resolve(dirname(args.importer), args.path));
        return { path: pathToFileURL(join(repoRoot, "dist", source)).href, external: true };
      });
    },
  };
  const { outputFiles } = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    target: "node22",
    plugins: [fromDist],
    logLevel: "warning",
  });
  const file = join(dir, "memoryStore.mjs");
  writeFileSync(file, outputFiles[0].text);
  return (await import(pathToFileURL(file).href)).MemoryOperationStore;
}

const devDir = mkdtempSync(join(tmpdir(), "teamops-bench-"));
try {
  const { ensureDevKeys, mintDevToken } = await import(dist("local/devIdentity.js"));
  const keys = await ensureDevKeys(devDir);
  Object.assign(process.env, {
    AUTH_JWKS_FILE: keys.jwksFile,
    AUTH_AUDIENCES: "api://team-operations-local",
    AUTH_TENANTS: "*",
    COSMOS_ENDPOINT: "http://127.0.0.1:1/",
  });
  const token = await mintDevToken({ app: true }, keys);
  const authorization = `Bearer ${token}`;

  const { loadFunctionApp } = await import(dist("local/functionsHost.js"));
  const registered = await loadFunctionApp(app.root);
  const { useOperationStore } = await import(dist("shared/store/operations.js"));
  const MemoryOperationStore = await memoryStoreClass(devDir);
  const store = new MemoryOperationStore();
  useOperationStore(store);
  const create = registered.find((f) => f.name === "createOperation");
  if (!create) throw new Error("createOperation is not registered");

  let n = 0;
  const invocation = () => {
    n++;
    const request = new HttpRequest({
      method: "POST",
      url: `http://127.0.0.1:7071/v1.0/teams/${TEAM}/operations`,
      headers: { authorization, "content-type": "application/json" },
      params: { teamId: TEAM },
      body: { string: CREATE_BODY },
    });
    const context = new InvocationContext({
      invocationId: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
      functionName: "createOperation",
      logHandler: () => undefined,
    });
    if (n % 10000 === 0) store.clear();
    return { request, context };
  };

  // Sanity: the real handler answers 201 with our body.
  const first = await create.handler(...Object.values(invocation()));
  if (first.status !== 201) throw new Error(`createOperation answered ${first.status}: ${first.body}`);

  const baselineHandler = async (request) => {
    const body = await request.json();
    return { status: 201, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  };

  const opts = { warmup: WARMUP, iterations: ITERATIONS, setup: invocation };
  // Interleave the two so that noise from other processes hits both alike.
  const pipelineRuns = [];
  const baselineRuns = [];
  for (let round = 0; round < ROUNDS; round++) {
    baselineRuns.push(await timeEach(({ request, context }) => baselineHandler(request, context), opts));
    pipelineRuns.push(await timeEach(({ request, context }) => create.handler(request, context), opts));
  }
  const best = (runs) => runs.reduce((a, b) => (b.median < a.median ? b : a));

  // Stages, each called directly from dist/ with the same inputs.
  const { config } = await import(dist("shared/config.js"));
  const tokens = await import(dist("shared/auth/tokens.js"));
  const { callerFromClaims, createdBy } = await import(dist("shared/auth/access.js"));
  const { parseJsonBody } = await import(dist("shared/http/jsonBody.js"));
  const { readJsonBody } = await import(dist("shared/http/requestBody.js"));
  const { parseCreateBody } = await import(dist("shared/operations/schema.js"));
  const { newOperationDocument } = await import(dist("shared/operations/rules.js"));
  const { toRepresentation } = await import(dist("shared/operations/model.js"));

  const cfg = config();
  const authenticate = tokens.createAuthenticator(cfg.auth);
  const claims = await authenticate(authorization);
  const caller = callerFromClaims(claims);
  const parsed = JSON.parse(CREATE_BODY);
  const body = parseCreateBody(parsed, false);
  const ctx = { tenantId: caller.tenantId, teamId: TEAM, createdBy: createdBy(caller), ttlSeconds: 86400 };
  const representation = toRepresentation(newOperationDocument(body, ctx), { includeUnknownEnumMembers: false });

  const sync = { warmup: WARMUP, iterations: ITERATIONS };
  const stages = {
    auth: await timeEach(() => authenticate(authorization), { warmup: WARMUP, iterations: ITERATIONS }),
    parsing: await timeEach(({ request }) => readJsonBody(request), opts),
    validation: timeEachSync(() => parseCreateBody(JSON.parse(CREATE_BODY), false), sync),
    validationOnly: timeEachSync(() => parseCreateBody(parsed, false), sync),
    mapping: timeEachSync(
      () => toRepresentation(newOperationDocument(body, ctx), { includeUnknownEnumMembers: false }),
      sync,
    ),
    serialisation: timeEachSync(() => JSON.stringify(representation), sync),
    jsonParse: timeEachSync(() => JSON.parse(CREATE_BODY), sync),
  };
  // The body guard on the body's bytes, beside what the baseline server does with them (decode, JSON.parse), on
  // the documented example's body and on bodies 8 and 64 times its size (an array of such objects): the same ratio at every size
  // is a guard linear in the size.
  const guard = {};
  for (const times of [1, 8, 64]) {
    const text = times === 1 ? BODY : JSON.stringify(Array.from({ length: times }, () => JSON.parse(BODY)));
    const bytes = Buffer.from(text, "utf8");
    const n = Math.max(200, Math.round(ITERATIONS / times));
    const timing = { warmup: Math.min(WARMUP, n), iterations: n };
    guard[times] = {
      bytes: bytes.length,
      guard: timeEachSync(() => parseJsonBody(bytes), timing),
      jsonParse: timeEachSync(() => JSON.parse(bytes.toString("utf8")), timing),
    };
  }
  process.stdout.write(
    JSON.stringify({
      iterations: ITERATIONS,
      pipeline: best(pipelineRuns),
      baseline: best(baselineRuns),
      rounds: { pipeline: pipelineRuns.map((r) => r.median), baseline: baselineRuns.map((r) => r.median) },
      stages,
      guard,
    }) + "\n",
  );
} finally {
  rmSync(devDir, { recursive: true, force: true });
  app.remove();
}
