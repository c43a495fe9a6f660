// Delivery isolated per receiver, measured through the local runner (`node dist/local/runner.js`, with its own
// Azurite and embedded store) with loopback receivers in this process:
//   - a fast subscriber's delivery latency (from sending the create to the notification's arrival), alone, then beside
//     10 silent receivers of other tenants (each holds every request open until the delivery timeout) whose teams
//     keep changing, so that every change-feed batch and the retry queue carry their notifications;
//   - a retry's delay against its schedule: a receiver that fails once, beside the same silent receivers, from the
//     failed attempt to the retry.
// Prints JSON: { figures, rows } for bench/run.js; BENCH_QUICK=1 takes fewer samples.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fmt, median, percentile } from "./stats.js";

const root = new URL("..", import.meta.url).pathname;
const { ensureDevKeys, mintDevToken } = await import(join(root, "dist/local/devIdentity.js"));

const QUICK = process.env.BENCH_QUICK === "1";
const SAMPLES = QUICK ? 12 : 80;
const RETRY_SAMPLES = QUICK ? 4 : 10;
const SILENT = 10;
/** The first retry's delay, seconds (the schedule's first step). */
const RETRY_DELAY_S = 1;
/** How often each silent receiver's team changes. */
const CHURN_MS = 2_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A receiver: answers the handshake; then acknowledges, fails the next `failNext` POSTs, or never answers. */
async function receiver(mode = "accept") {
  const state = { mode, failNext: 0, arrivals: [], url: "" };
  const held = new Set();
  const server = createServer((req, res) => {
    const token = new URL(req.url, "http://x").searchParams.get("validationToken");
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      if (token !== null) return res.writeHead(200, { "content-type": "text/plain" }).end(token);
      const at = performance.now();
      const failed = state.failNext > 0;
      for (const n of JSON.parse(Buffer.concat(chunks).toString()).value)
        state.arrivals.push({ at, id: n.resourceData.id, failed });
      if (state.mode === "silent") return held.add(res);
      if (failed) {
        state.failNext--;
        return res.writeHead(500).end();
      }
      res.writeHead(202).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${server.address().port}/notify`;
  state.close = () =>
    new Promise((resolve) => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

async function startRunner(env) {
  const child = spawn(process.execPath, [join(root, "dist/local/runner.js")], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", PORT: "0", AZURITE_QUEUE_PORT: "0", LOCAL_PERSISTENCE: "off", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Never outlive the bench, however it ends.
  process.once("exit", () => child.kill("SIGTERM"));
  let printed = "";
  child.stderr.on("data", (c) => (printed += c));
  if (process.env.BENCH_DELIVERY_LOG) {
    child.stdout.pipe(process.stderr);
    child.stderr.pipe(process.stderr);
  }
  const baseUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`runner did not start:\n${printed}`)), 90_000);
    child.stdout.on("data", (c) => {
      printed += c;
      const match = /listening on (http:\/\/\S+)[\s\S]*token:/.exec(printed);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => reject(new Error(`runner exited with ${code}:\n${printed}`)));
  });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 8_000).unref();
    });
  return { baseUrl, stop };
}

const devDir = mkdtempSync(join(tmpdir(), "teamops-bench-delivery-"));
const receivers = [];
let runner;
let churning = false;
try {
  const keys = await ensureDevKeys(devDir);
  runner = await startRunner({
    TEAMOPS_DEV_DIR: devDir,
    LOG_LEVEL: process.env.BENCH_DELIVERY_LOG ?? "error",
    SUBSCRIPTION_ALLOW_LOOPBACK: "true",
    SUBSCRIPTION_RETRY_SCHEDULE_SECONDS: `${RETRY_DELAY_S},${RETRY_DELAY_S},${RETRY_DELAY_S}`,
  });
  const token = (tenant) => mintDevToken({ app: true, ...(tenant ? { tenant } : {}) }, keys);
  const app = await token();
  const post = async (path, body, bearer = app) => {
    const res = await fetch(`${runner.baseUrl}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const subscribe = async (r, team, bearer = app) => {
    receivers.push(r);
    await post(
      "/subscriptions",
      {
        changeType: "created",
        notificationUrl: r.url,
        resource: `teams/${team}/operations`,
        expirationDateTime: new Date(Date.now() + 3_600_000).toISOString(),
      },
      bearer,
    );
  };
  const create = (team, bearer) => post(`/teams/${team}/operations`, { operationType: "cloneTeam" }, bearer);
  const arrival = async (r, id, accept = (a) => !a.failed) => {
    for (let i = 0; i < 3_000; i++) {
      const found = r.arrivals.find((a) => a.id === id && accept(a));
      if (found) return found.at;
      await sleep(10);
    }
    throw new Error(`no notification for ${id}`);
  };

  /** Latency of `count` changes of the fast subscriber's team, one at a time, at uneven moments. */
  const fast = await receiver();
  const fastTeam = randomUUID();
  await subscribe(fast, fastTeam);
  const posts = [];
  const latencies = async (count) => {
    posts.length = 0;
    const samples = [];
    for (let i = 0; i < count; i++) {
      await sleep(100 + Math.random() * 400);
      const sent = performance.now();
      const { id } = await create(fastTeam);
      posts.push(performance.now() - sent);
      samples.push((await arrival(fast, id)) - sent);
    }
    return samples.sort((a, b) => a - b);
  };
  process.stderr.write("delivery: alone ...\n");
  await latencies(3); // warm-up: the first requests load the app and its clients
  const alone = await latencies(SAMPLES);
  const alonePostMs = median(posts);

  // Ten silent receivers of ten other tenants, whose teams change every 2 s or so, all along: each has
  // notifications in the change feed and retries in the queue at every moment of the measure.
  const silentTeams = [];
  for (let i = 0; i < SILENT; i++) {
    const tenant = randomUUID();
    const bearer = await token(tenant);
    const team = randomUUID();
    const r = await receiver();
    await subscribe(r, team, bearer);
    r.mode = "silent";
    silentTeams.push({ team, bearer });
  }
  churning = true;
  const churn = Promise.all(
    silentTeams.map(async ({ team, bearer }, i) => {
      await sleep((i * CHURN_MS) / SILENT);
      while (churning) {
        await create(team, bearer).catch((error) => process.stderr.write(`delivery: ${String(error)}\n`));
        await sleep(CHURN_MS);
      }
    }),
  );
  await sleep(3_000); // their first attempts have failed; their retries are under way
  process.stderr.write("delivery: beside silent receivers ...\n");
  const beside = await latencies(SAMPLES);
  const besidePostMs = median(posts);

  // A receiver that fails once per change, beside the same silent receivers.
  const recovering = await receiver();
  const recoveringTeam = randomUUID();
  await subscribe(recovering, recoveringTeam);
  const retryDelays = [];
  for (let i = 0; i < RETRY_SAMPLES; i++) {
    recovering.failNext = 1;
    const { id } = await create(recoveringTeam);
    const failedAt = await arrival(recovering, id, (a) => a.failed);
    retryDelays.push((await arrival(recovering, id)) - failedAt);
    await sleep(RETRY_DELAY_S * 1000 + 500); // the receiver's rest after the failure is over
  }
  retryDelays.sort((a, b) => a - b);
  churning = false;
  await churn;

  const aloneMs = median(alone);
  const besideMs = median(beside);
  const scheduledMs = RETRY_DELAY_S * 1000;
  const worstRetryMs = retryDelays.at(-1);
  const figures = {
    deliveryLatencyAloneMs: aloneMs,
    deliveryLatencyBesideSilentMs: besideMs,
    deliveryLatencyBesideSilentRatio: besideMs / aloneMs,
    deliveryRetryDelayOverScheduleMs: worstRetryMs - scheduledMs,
  };
  const rows = [
    [
      "8",
      `notification latency, beside ${SILENT} silent receivers vs alone, median ms`,
      fmt(besideMs, 0),
      fmt(aloneMs, 0),
      fmt(besideMs / aloneMs, 2),
      "≤ 1.5×",
      besideMs / aloneMs <= 1.5,
    ],
    [
      "8",
      "  the create's own POST within it, median ms",
      fmt(besidePostMs, 0),
      fmt(alonePostMs, 0),
      fmt(besidePostMs / alonePostMs, 2),
      "",
      undefined,
    ],
    [
      "8",
      `  the same, p90 ms (${SAMPLES} changes each)`,
      fmt(percentile(beside, 90), 0),
      fmt(percentile(alone, 90), 0),
      "",
      "",
      undefined,
    ],
    [
      "8",
      `retry beside ${SILENT} silent receivers: delay, worst of ${RETRY_SAMPLES} vs scheduled, ms`,
      fmt(worstRetryMs, 0),
      fmt(scheduledMs, 0),
      "",
      "≤ scheduled + 2000",
      worstRetryMs <= scheduledMs + 2000,
    ],
    ["8", "  the same, median ms", fmt(median(retryDelays), 0), fmt(scheduledMs, 0), "", "", undefined],
  ];
  console.log(JSON.stringify({ figures, rows, samples: { alone, beside, retryDelays } }));
} finally {
  churning = false;
  await runner?.stop();
  await Promise.all(receivers.map((r) => r.close()));
  rmSync(devDir, { recursive: true, force: true });
}
