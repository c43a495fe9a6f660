// Store round trips per API request: the local runner reaches the embedded store
// through a counting proxy (bench/counting-proxy.js), and the requests that reach
// documents are counted for one create, one read by id, one list page and one list
// page with $count=true. Prints JSON.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { countingProxy } from "./counting-proxy.js";
import { benchRunnerEnv, startNode, startStore } from "./processes.js";
import { CREATE_BODY as BODY, TEAM } from "./request.js";

const root = new URL("..", import.meta.url).pathname;

const devDir = mkdtempSync(join(tmpdir(), "teamops-bench-calls-"));
const started = [];
let proxy;
try {
  const store = await startStore();
  started.push(store);
  proxy = await countingProxy(store.match[1]);
  const runner = await startNode([join(root, "dist/local/runner.js")], {
    env: await benchRunnerEnv(proxy.endpoint, devDir),
    ready: /listening on (http:\/\/\S+)/,
  });
  started.push(runner);
  const { ensureDevKeys, mintDevToken } = await import("../dist/local/devIdentity.js");
  const token = await mintDevToken({ app: true }, await ensureDevKeys(devDir));
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const base = `${runner.match[1]}/teams/${TEAM}/operations`;
  const ok = async (response, status) => {
    if (response.status !== status) throw new Error(`${response.url} answered ${response.status}`);
    return response.json();
  };
  const create = async () => ok(await fetch(base, { method: "POST", headers, body: BODY }), 201);

  // The first call of a client reads the account and the container: not counted.
  const { id } = await create();
  for (let i = 0; i < 24; i++) await create();
  const out = {
    storeCallsPerCreate: await proxy.count(create),
    storeCallsPerRead: await proxy.count(async () => ok(await fetch(`${base}/${id}`, { headers }), 200)),
    storeCallsPerListPage: await proxy.count(async () => ok(await fetch(`${base}?$top=10`, { headers }), 200)),
    storeCallsPerCountedPage: await proxy.count(async () =>
      ok(await fetch(`${base}?$top=10&$count=true`, { headers }), 200),
    ),
    storeCallsPerCountedWholePage: await proxy.count(async () =>
      ok(await fetch(`${base}?$top=100&$count=true`, { headers }), 200),
    ),
  };
  process.stdout.write(JSON.stringify(out) + "\n");
} finally {
  for (const p of started.reverse()) await p.stop();
  await proxy?.close();
  rmSync(devDir, { recursive: true, force: true });
}
