/**
 * Change notifications across a restart of the runner, as `npm start` runs it, on a data folder of its own (the
 * embedded store, its change feed and Azurite's queues all kept there): the change feed resumes where it stopped, so
 * nothing is delivered again (and no change ever comes under two ids), and delivery drops, at once, what is due to a
 * tenant the restarted runner no longer accepts (AUTH_TENANTS), without waiting for the lifecycle run to remove its
 * subscription.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_TENANT_ID, ensureDevKeys, mintDevToken, type DevKeys } from "../../local/devIdentity.js";
import { OTHER_TENANT } from "../support/http.js";
import { waitFor, type Receiver } from "../support/receiver.js";
import { inMinutes, receiverPool, sentAbout, subscriptionCalls } from "../support/subscriptionCalls.js";
import { spawnRunner, type Runner } from "../support/stack.js";

let devDir: string;
let dataDir: string;
let keys: DevKeys;
let app: string;
let runner: Runner;
const receivers = receiverPool();

const env = (extra: Record<string, string> = {}) => ({
  TEAMOPS_DEV_DIR: devDir,
  LOCAL_PERSISTENCE: "on",
  LOCAL_DATA_DIR: dataDir,
  SUBSCRIPTION_ALLOW_LOOPBACK: "true",
  SUBSCRIPTION_VALIDATION_TIMEOUT_SECONDS: "2",
  SUBSCRIPTION_DELIVERY_TIMEOUT_SECONDS: "2",
  // Removals by the lifecycle run would hide what delivery itself does: not in this test's lifetime.
  SUBSCRIPTION_LIFECYCLE_SCHEDULE: "0 0 0 1 1 *",
  ...extra,
});

const { subscribed, createOperation } = subscriptionCalls(
  () => runner.baseUrl,
  () => app,
);

const about = sentAbout;

async function subscribe(r: Receiver, team: string, token = app) {
  return subscribed(
    {
      changeType: "created,updated",
      notificationUrl: r.url,
      resource: `teams/${team}/operations`,
      expirationDateTime: inMinutes(60),
    },
    token,
  );
}

beforeAll(async () => {
  devDir = mkdtempSync(join(tmpdir(), "teamops-dev-"));
  dataDir = mkdtempSync(join(tmpdir(), "teamops-data-"));
  keys = await ensureDevKeys(devDir);
  app = await mintDevToken({ app: true }, keys);
  runner = await spawnRunner(env());
});
afterAll(async () => {
  await runner?.stop();
  await receivers.close();
  rmSync(devDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe("after a restart", () => {
  it("the change feed resumes where it stopped: nothing delivered again, no change under two ids", async () => {
    const r = await receivers.start();
    const team = randomUUID();
    await subscribe(r, team);
    const before = [await createOperation(team), await createOperation(team), await createOperation(team)];
    await waitFor(() => before.every((id) => about(r, id).length > 0), "the notifications before the restart");
    const delivered = r.received.length;

    await runner.stop();
    runner = await spawnRunner(env());
    const after = await createOperation(team);
    await waitFor(() => about(r, after).length > 0, "the notification after the restart");

    // The new change, and only it: the earlier ones were not delivered again.
    expect(r.received.slice(delivered).map((n) => n.resourceData.id)).toEqual([after]);
    const ids = new Map<string, Set<string>>();
    for (const n of r.received) {
      const change = `${n.resourceData.id}:${n.changeType}`;
      ids.set(change, (ids.get(change) ?? new Set()).add(n.id));
    }
    for (const [change, seen] of ids) expect(seen.size, change).toBe(1);
  }, 120_000);

  it("delivery drops at once what is due to a tenant no longer accepted, before the lifecycle run removes it", async () => {
    const theirs = await receivers.start();
    const mine = await receivers.start();
    const theirToken = await mintDevToken({ app: true, tenant: OTHER_TENANT }, keys);
    const theirTeam = randomUUID();
    const myTeam = randomUUID();
    await subscribe(theirs, theirTeam, theirToken);
    await subscribe(mine, myTeam);
    // Their first attempt fails: the batch waits in the delivery queue (kept in the data folder) for its retry.
    theirs.failNext = 1;
    await runner.stop();
    runner = await spawnRunner(env({ SUBSCRIPTION_RETRY_SCHEDULE_SECONDS: "10,10" }));
    const theirOperation = await createOperation(theirTeam, theirToken);
    await waitFor(() => about(theirs, theirOperation).length > 0, "their first attempt");
    const retryDue = Date.now() + 10_000;

    await runner.stop();
    runner = await spawnRunner(env({ SUBSCRIPTION_RETRY_SCHEDULE_SECONDS: "10,10", AUTH_TENANTS: DEV_TENANT_ID }));
    // Past the retry's due time, then a change of an accepted tenant, delivered later than the retry would be.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, retryDue - Date.now()) + 2_000));
    const mineAfter = await createOperation(myTeam);
    await waitFor(() => about(mine, mineAfter).length > 0, "a later notification");
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(about(theirs, theirOperation)).toHaveLength(1);
    expect(theirs.acknowledged).toEqual([]);
  }, 120_000);
});
