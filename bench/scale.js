// Section 7: cost as the work grows. Prints JSON.
//   - One team grows to each of BENCH_SCALE_SIZES operations (default 1,000, 10,000, 100,000; seeded straight into
//     the store in transactional batches, documents made by the app's own rules, one in ten still running). At each
//     size: a list page, a list page in $orderby order, $count (through the local runner), and the stuck-operation
//     sweeper's run (the timer function, nothing stale; then, up to 10,000, a run that finds every running operation
//     stale, as if two hours had passed; both in the app loaded here as the worker loads it). The store is behind a
//     counting proxy: the round trips, the time the store took to answer, and the rest (ours, and the client's). The
//     store is bench/scale-store.js: the embedded store without its query engine's quadratic copy.
//   - Change-notification fan-out: one change on a team with each of BENCH_SCALE_SUBSCRIBERS subscriptions (default
//     1, 100, 1,000; the first created through the API, the others copies of its stored document, each with its own
//     notification URL on one receiver process), delivered by the app's change-feed function invoked here as the host
//     invokes it: the deliveries, when the first and the last arrived after the invocation began, deliveries per
//     second; then 100 subscribers on a team of their own and 100 on a team with a receiver more that takes 1 s to
//     answer, in turn: what the slow one adds to the others' deliveries, and how long it holds the invocation (the
//     change feed's next batch waits that long).
//   BENCH_SCALE_SAMPLES (requests per measure, median; default 7)
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CosmosClient } from "@azure/cosmos";
import { repoRoot as root } from "./app-roots.js";
import { countingProxy } from "./counting-proxy.js";
import { startNode, startStore } from "./processes.js";
import { median } from "./stats.js";

const SIZES = (process.env.BENCH_SCALE_SIZES ?? "1000,10000,100000").split(",").map(Number);
const SUBSCRIBERS = (process.env.BENCH_SCALE_SUBSCRIBERS ?? "1,100,1000").split(",").map(Number);
const SAMPLES = Number(process.env.BENCH_SCALE_SAMPLES ?? 7);
const SLOW_MS = 1000;
/** The largest team the all-stale sweeper run is measured on, and its page size. */
const STALE_SIZE = 10_000;
const STALE_BATCH = 10;
/** Subscribers beside the slow receiver. */
const SLOW_FAST = 100;
const TEAM = randomUUID();
/** CLOCK_MONOTONIC in ms: the same clock in the receiver's process. */
const now = () => Number(process.hrtime.bigint()) / 1e6;

const devDir = mkdtempSync(join(tmpdir(), "teamops-bench-scale-"));
const started = [];
let proxy;
let client;
try {
  const store = await startStore("bench/scale-store.js");
  started.push(store);
  proxy = await countingProxy(store.match[1]);
  const receiver = await startNode([join(root, "bench/fanout-receiver.js")], {
    env: { RECEIVER_SLOW_MS: String(SLOW_MS) },
    ready: /receiver listening on (http:\/\/\S+)/,
  });
  started.push(receiver);
  const receiverUrl = receiver.match[1];

  const { LOCAL_COSMOS_KEY } = await import("../dist/local/embeddedCosmos.js");
  const { ensureDevKeys, mintDevToken, DEV_AUDIENCE, DEV_TENANT_ID } = await import("../dist/local/devIdentity.js");
  const keys = await ensureDevKeys(devDir);
  const settings = {
    COSMOS_ENDPOINT: proxy.endpoint,
    COSMOS_KEY: LOCAL_COSMOS_KEY,
    COSMOS_DATABASE: "teamops",
    COSMOS_CONTAINER: "operations",
    SUBSCRIPTIONS_PER_TENANT: String(Math.max(...SUBSCRIBERS) + 10),
    SUBSCRIPTION_ALLOW_LOOPBACK: "true",
  };
  const runner = await startNode([join(root, "dist/local/runner.js")], {
    env: {
      ...settings,
      PORT: "0",
      TEAMOPS_DEV_DIR: devDir,
      AUTH_JWKS_URI: "",
      LOCAL_TRIGGERS: "off",
      LOCAL_PERSISTENCE: "off",
    },
    ready: /listening on (http:\/\/\S+)/,
  });
  started.push(runner);
  const base = runner.match[1];

  // The app, loaded in this process as the worker loads it, for the functions no request reaches (timer, change feed).
  Object.assign(process.env, settings, {
    AUTH_AUDIENCES: DEV_AUDIENCE,
    AUTH_TENANTS: "*",
    AUTH_JWKS_FILE: keys.jwksFile,
    AUTH_JWKS_URI: "",
  });
  const { invokeFunction, loadFunctionApp, setWorkerLog } = await import("../dist/local/functionsHost.js");
  setWorkerLog((level, message) => {
    if (level === "error" || level === "warning") console.error(`[${level}] ${message}`);
  });
  const functions = await loadFunctionApp(root);
  const fn = (name) => functions.find((f) => f.name === name) ?? assert(false, `${name} is not registered`);
  const invoke = (f, data, triggerMetadata = {}) =>
    invokeFunction(f, {
      invocationId: randomUUID(),
      functionId: f.functionId,
      inputData: [{ name: f.trigger.name, data }],
      triggerMetadata,
    });
  const sweeperRun = () =>
    invoke(
      fn("sweepStuckOperations"),
      { string: JSON.stringify({ Schedule: { AdjustForDST: true }, ScheduleStatus: null, IsPastDue: false }) },
      { TimerTrigger: { string: new Date().toISOString() } },
    );

  const token = await mintDevToken({ app: true }, keys);
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const call = async (url, init = {}, status = 200) => {
    const response = await fetch(url, { headers, ...init });
    const text = await response.text();
    if (response.status !== status) throw new Error(`${url} answered ${response.status}: ${text.slice(0, 300)}`);
    return text;
  };
  /** `run` SAMPLES times: the median time, the median store time, and the most round trips of one. */
  const sampled = async (run) => {
    const samples = [];
    for (let i = 0; i < SAMPLES; i++) samples.push(await proxy.measure(run));
    const ms = median(samples.map((s) => s.ms));
    const storeMs = median(samples.map((s) => s.storeMs));
    return { ms, storeMs, ownMs: ms - storeMs, calls: Math.max(...samples.map((s) => s.calls)) };
  };

  // ---------------------------------------------------------------- one team grows
  const { cosmosClientOptions } = await import("../dist/shared/store/cosmos.js");
  client = new CosmosClient({
    endpoint: store.match[1],
    key: LOCAL_COSMOS_KEY,
    ...cosmosClientOptions(store.match[1]),
  });
  const container = client.database("teamops").container("operations");
  const { newOperationDocument } = await import("../dist/shared/operations/rules.js");
  const { operationStore } = await import("../dist/shared/store/operations.js");
  const { sweepStaleOperations } = await import("../dist/shared/events/sweeper.js");
  const { config } = await import("../dist/shared/config.js");
  const creator = { kind: "application", objectId: randomUUID(), appId: randomUUID() };
  const seededFrom = Date.now() - 86_400_000;
  let seeded = 0;
  /** Adds operations to the team until it holds `size`, 100 to a transactional batch, a few batches at once. */
  async function growTo(size) {
    const documentAt = (i) =>
      newOperationDocument(
        {
          operationType: "archiveTeam",
          status: i % 10 === 0 ? "inProgress" : "succeeded",
          attemptsCount: 1,
          targetResourceId: "fa4aa5a2-a75b-4769-86f4-9e2742a18fda",
          targetResourceLocation:
            "https://graph.microsoft.com/v1.0/groups('fa4aa5a2-a75b-4769-86f4-9e2742a18fda')/team",
        },
        {
          tenantId: DEV_TENANT_ID,
          teamId: TEAM,
          createdBy: creator,
          ttlSeconds: 2_592_000,
          now: new Date(seededFrom + i),
        },
      );
    const batches = [];
    for (let from = seeded; from < size; from += 100) {
      const to = Math.min(size, from + 100);
      batches.push(Array.from({ length: to - from }, (_, k) => documentAt(from + k)));
    }
    for (let i = 0; i < batches.length; i += 8) {
      await Promise.all(
        batches.slice(i, i + 8).map(async (documents) => {
          await createAll(container, documents, TEAM);
        }),
      );
    }
    seeded = size;
  }

  const operations = `${base}/teams/${TEAM}/operations`;
  const appStore = await operationStore(config().cosmos);
  const sizes = [];
  for (const size of SIZES) {
    const seedStarted = performance.now();
    await growTo(size);
    const seedMs = performance.now() - seedStarted;
    await call(`${operations}?$top=20`); // the first call of a size: not counted
    const list = await sampled(() => call(`${operations}?$top=20`));
    const listOrdered = await sampled(() => call(`${operations}?$orderby=createdDateTime%20desc&$top=20`));
    const count = await sampled(() => call(`${operations}/$count`));
    const sweep = await sampled(sweeperRun);
    // Every running operation stale (as if two hours had passed): a run fails at most 10 pages, the rest waits for
    // the next run. Pages of STALE_BATCH (the setting's default is 100) and teams up to STALE_SIZE, because on the
    // embedded store every page is a scan of the container and every failed operation a read and a replace.
    const stale =
      size <= STALE_SIZE
        ? await proxy.measure(() =>
            sweepStaleOperations(appStore, {
              deadlineMinutes: 60,
              batchSize: STALE_BATCH,
              ttlSeconds: 2_592_000,
              now: new Date(Date.now() + 2 * 3_600_000),
            }),
          )
        : undefined;
    sizes.push({
      operations: size,
      seedMs,
      list,
      listOrdered,
      count,
      sweep,
      ...(stale && {
        sweepStale: { ms: stale.ms, storeMs: stale.storeMs, calls: stale.calls, failed: stale.value.failed.length },
      }),
    });
    process.stderr.write(`scale: ${size} operations: list ${list.ms.toFixed(1)} ms, sweep ${sweep.ms.toFixed(1)} ms\n`);
  }

  // ---------------------------------------------------------------- fan-out
  // Each team's first subscription goes through the API (handshake, quota, the stored document); the others are that
  // stored document again with their own id and URL, written in transactional batches (the API's quota and handshake
  // take 30-50 ms each, and delivery reads only the documents).
  const subscriptions = client.database("teamops").container("subscriptions");
  const { resourceKeyOf } = await import("../dist/shared/subscriptions/model.js");
  const deliverNotifications = fn("deliverNotifications");
  let receivers = 0;
  /** A team with one change (a created operation) and its subscribers, each with a URL of its own. */
  async function fanTeam() {
    const teamId = randomUUID();
    const created = JSON.parse(
      await call(
        `${base}/teams/${teamId}/operations`,
        { method: "POST", body: JSON.stringify({ operationType: "archiveTeam", status: "inProgress" }) },
        201,
      ),
    );
    const { resource: changed } = await container.item(`${DEV_TENANT_ID}:${created.id}`, teamId).read();
    const resourceKey = resourceKeyOf(DEV_TENANT_ID, teamId);
    const body = (path) =>
      JSON.stringify({
        changeType: "created",
        notificationUrl: `${receiverUrl}${path}`,
        resource: `teams/${teamId}/operations`,
        expirationDateTime: new Date(Date.now() + 3 * 3_600_000).toISOString(),
      });
    const { id } = JSON.parse(
      await call(`${base}/subscriptions`, { method: "POST", body: body(`/r/${receivers++}`) }, 201),
    );
    const { resource } = await subscriptions.item(id, resourceKey).read();
    if (!resource) throw new Error("the subscription the API created is not in the store");
    const template = Object.fromEntries(Object.entries(resource).filter(([key]) => !key.startsWith("_")));
    let subscribed = 1;
    return {
      /** Subscribers until there are `count`, on URLs under `prefix`. */
      async subscribeTo(count, prefix = "/r/") {
        const copies = Array.from({ length: count - subscribed }, () => ({
          ...template,
          id: randomUUID(),
          notificationUrl: `${receiverUrl}${prefix}${receivers++}`,
        }));
        for (let i = 0; i < copies.length; i += 100) {
          await createAll(subscriptions, copies.slice(i, i + 100), resourceKey);
        }
        subscribed = count;
      },
      /** One change-feed batch holding the change, invoked as the host invokes the function: what arrived, when. */
      async deliver() {
        const began = now();
        const { ms, calls } = await proxy.measure(() =>
          invoke(deliverNotifications, { string: JSON.stringify([changed]) }),
        );
        const arrivals = JSON.parse(await call(`${receiverUrl}/arrivals`)).map((a) => ({ ...a, ms: a.at - began }));
        return { invocationMs: ms, storeCalls: calls, arrivals };
      },
    };
  }

  const grown = await fanTeam();
  await grown.deliver(); // the first invocation connects the subscription store: not counted
  const fanout = [];
  for (const subscribers of SUBSCRIBERS) {
    await grown.subscribeTo(subscribers);
    const { invocationMs, storeCalls, arrivals } = await grown.deliver();
    const times = arrivals.map((a) => a.ms).sort((a, b) => a - b);
    const lastMs = times.at(-1) ?? NaN;
    fanout.push({
      subscribers,
      deliveries: arrivals.length,
      notifications: arrivals.reduce((n, a) => n + a.notifications, 0),
      firstMs: times[0] ?? NaN,
      lastMs,
      deliveriesPerSecond: (arrivals.length * 1000) / lastMs,
      invocationMs,
      storeCalls,
    });
    process.stderr.write(`scale: ${subscribers} subscribers: last delivery after ${lastMs.toFixed(0)} ms\n`);
  }
  // Head-of-line blocking: SLOW_FAST subscribers, on a team of their own and on one that has a slow receiver too,
  // delivered in turn (ABBA): what the slow one adds to the others' last delivery, and how long it holds the invocation.
  const alone = await fanTeam();
  await alone.subscribeTo(SLOW_FAST);
  const beside = await fanTeam();
  await beside.subscribeTo(SLOW_FAST);
  await beside.subscribeTo(SLOW_FAST + 1, "/slow/");
  const runs = { alone: [], beside: [] };
  for (const side of ["alone", "beside", "beside", "alone"]) {
    const { arrivals, invocationMs } = await (side === "alone" ? alone : beside).deliver();
    const fast = arrivals.filter((a) => !a.path.startsWith("/slow/")).map((a) => a.ms);
    runs[side].push({ lastFastMs: Math.max(...fast), invocationMs });
  }
  const mean = (list, key) => list.reduce((sum, r) => sum + r[key], 0) / list.length;
  const slowReceiver = {
    fastSubscribers: SLOW_FAST,
    slowMs: SLOW_MS,
    lastFastMsAlone: mean(runs.alone, "lastFastMs"),
    lastFastMsBeside: mean(runs.beside, "lastFastMs"),
    addedMs: mean(runs.beside, "lastFastMs") - mean(runs.alone, "lastFastMs"),
    invocationMs: mean(runs.beside, "invocationMs"),
  };
  process.stdout.write(JSON.stringify({ samples: SAMPLES, sizes, fanout, slowReceiver }) + "\n");
} finally {
  client?.dispose();
  for (const p of started.reverse()) await p.stop();
  await proxy?.close();
  rmSync(devDir, { recursive: true, force: true });
}
// The app loaded here keeps its clients and timers: nothing else is left to do.
process.exit(0);

/**
 * Creates documents of one partition in a transactional batch. A pooled connection the store has just closed (its
 * keep-alive timeout) fails the request: it is sent again, and a batch that had gone through (every create a 409) is
 * done.
 */
async function createAll(container, documents, partitionKey) {
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await container.items.batch(
        documents.map((resourceBody) => ({ operationType: "Create", resourceBody })),
        partitionKey,
      );
      const failed = response.result?.find((r) => r.statusCode >= 300);
      if (!failed || (attempt > 0 && failed.statusCode === 409)) return;
      throw new Error(`creating documents answered ${failed.statusCode}`);
    } catch (error) {
      if (attempt >= 3 || !/socket hang up|ECONNRESET/.test(String(error?.message))) throw error;
    }
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
  return undefined;
}
