/**
 * Nothing lost, nothing applied twice, through the local runner (the host's queue retries and poison semantics),
 * Azurite and the embedded store behind a fault proxy: a store outage shorter than the inbox's retry window
 * (host.json, scaled down) poisons nothing; one that outlasts it poisons each message at its last attempt with its
 * reason and id; and `npm run replay-poison` (the script users run, against Azurite) puts them back, after which
 * every message has been applied once, even a create whose first attempt reached the store and lost its answer.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { QueueClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_TENANT_ID } from "../../local/devIdentity.js";
import { startAzuriteQueue, type Azurite } from "../../local/azurite.js";
import { queueRetry, retryWindowSeconds } from "../../shared/events/queueRetry.js";
import { repeatableOperationId } from "../../shared/operations/rules.js";
import { startFaultProxy, unavailable, type FaultProxy } from "../support/faultProxy.js";
import { waitFor } from "../support/receiver.js";
import { freePort, PROJECT_ROOT, startStack, type Stack } from "../support/stack.js";

const run = promisify(execFile);
const TENANT = DEV_TENANT_ID;
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8").toString("base64");
const unb64 = (text: string): any => JSON.parse(Buffer.from(text, "base64").toString("utf8"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Time runs this many times faster than in Azure: host.json's 2 minutes between attempts become 1 second. */
const SCALE = 120;
const OUTAGE_MS = ((15 * 60) / SCALE) * 1000;

interface World {
  azurite: Azurite;
  proxy: FaultProxy;
  stack: Stack;
  inbox: QueueClient;
  poison: QueueClient;
}

async function startWorld(queueSettings: {
  maxDequeueCount: number;
  visibilityTimeoutSeconds: number;
}): Promise<World> {
  const azurite = await startAzuriteQueue(await freePort());
  let proxy!: FaultProxy;
  const timeSpan = (s: number) =>
    `00:${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  const stack = await startStack({
    cosmosEndpointFor: async (endpoint) => {
      proxy = await startFaultProxy(endpoint);
      return proxy.endpoint;
    },
    env: {
      LOCAL_QUEUES: "on",
      AUTH_TENANTS: TENANT,
      AzureWebJobsStorage: azurite.connectionString,
      AzureFunctionsJobHost__extensions__queues__maxDequeueCount: String(queueSettings.maxDequeueCount),
      AzureFunctionsJobHost__extensions__queues__visibilityTimeout: timeSpan(queueSettings.visibilityTimeoutSeconds),
    },
  });
  const inbox = new QueueClient(azurite.connectionString, "operations-inbox");
  const poison = new QueueClient(azurite.connectionString, "operations-inbox-poison");
  await Promise.all([inbox.createIfNotExists(), poison.createIfNotExists()]);
  return { azurite, proxy, stack, inbox, poison };
}

async function stopWorld(world: World | undefined) {
  await world?.stack.stop();
  await world?.proxy.close();
  await world?.azurite.close();
}

const depth = async (queue: QueueClient) => (await queue.getProperties()).approximateMessagesCount ?? 0;

/** The operations of a team, as stored (tombstones included). */
async function operationsOf(stack: Stack, team: string) {
  return (await stack.documents()).filter((d) => d.teamId === team);
}

describe("a store outage shorter than the inbox's retry window (host.json, 120 times faster)", () => {
  let world: World;
  const team = randomUUID();
  const retry = queueRetry({});
  const scaled = { ...retry, visibilityTimeoutSeconds: Math.round(retry.visibilityTimeoutSeconds / SCALE) };

  beforeAll(async () => {
    world = await startWorld(scaled);
  });
  afterAll(() => stopWorld(world));

  it("rides out a 15-minute outage (7.5 s here): every message applied after it, none poisoned", async () => {
    expect(retryWindowSeconds(scaled) * 1000).toBeGreaterThanOrEqual(OUTAGE_MS);
    const { inbox, poison, proxy, stack } = world;
    await inbox.sendMessage(
      b64({
        action: "create",
        tenantId: TENANT,
        teamId: team,
        operation: { id: "before", operationType: "cloneTeam" },
      }),
    );
    await waitFor(async () => (await operationsOf(stack, team)).length === 1, "the first create");

    proxy.inject("documents", unavailable, 1_000_000);
    const started = Date.now();
    await inbox.sendMessage(
      b64({ action: "create", tenantId: TENANT, teamId: team, operation: { operationType: "archiveTeam" } }),
    );
    await inbox.sendMessage(
      b64({
        action: "update",
        tenantId: TENANT,
        teamId: team,
        operationId: "before",
        changes: { status: "inProgress" },
      }),
    );
    await sleep(OUTAGE_MS - (Date.now() - started));
    proxy.clear();

    await waitFor(async () => (await depth(inbox)) === 0, "the inbox to drain", 30_000);
    const stored = await operationsOf(stack, team);
    expect(stored.map((d) => `${String(d.operationType)}:${String(d.status)}`).sort()).toEqual([
      "archiveTeam:notStarted",
      "cloneTeam:inProgress",
    ]);
    expect(await depth(poison)).toBe(0);
    expect(stack.output()).toMatch(/will be retried/);
  }, 90_000);
});

describe("an outage that outlasts the retry window, then `npm run replay-poison`", () => {
  let world: World;
  const team = randomUUID();
  const sent: Record<string, string> = {};

  beforeAll(async () => {
    world = await startWorld({ maxDequeueCount: 3, visibilityTimeoutSeconds: 1 });
  });
  afterAll(() => stopWorld(world));

  const replay = (queue: string, ...args: string[]) =>
    run(process.execPath, [`${PROJECT_ROOT}/scripts/replay-poison.js`, queue, ...args], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, AzureWebJobsStorage: world.azurite.connectionString },
    });

  it("poisons each message at its last attempt, with its reason and its id", async () => {
    const { inbox, poison, proxy, stack } = world;
    await inbox.sendMessage(
      b64({ action: "create", tenantId: TENANT, teamId: team, operation: { id: "kept", operationType: "cloneTeam" } }),
    );
    await waitFor(async () => (await operationsOf(stack, team)).length === 1, "the operation to update");

    // Creates reach the store and their answers are lost (the worst case: the first attempt applied it); everything
    // else finds the store down.
    proxy.inject("create", { kind: "drop", after: true }, 1_000_000);
    proxy.inject("documents", unavailable, 1_000_000);
    sent.create = (
      await inbox.sendMessage(
        b64({ action: "create", tenantId: TENANT, teamId: team, operation: { operationType: "teamifyGroup" } }),
      )
    ).messageId;
    sent.update = (
      await inbox.sendMessage(
        b64({
          action: "update",
          tenantId: TENANT,
          teamId: team,
          operationId: "kept",
          changes: { status: "inProgress", attemptsCount: 1 },
        }),
      )
    ).messageId;
    await waitFor(async () => (await depth(poison)) >= 2, "both messages to be poisoned", 60_000);
    proxy.clear();

    const { peekedMessageItems } = await poison.peekMessages({ numberOfMessages: 32 });
    const records = peekedMessageItems.map((m) => unb64(m.messageText));
    expect(records.map((r) => [r.messageId, r.reason.code, r.dequeueCount]).sort()).toEqual(
      [
        [sent.create, "serviceNotAvailable", 3],
        [sent.update, "serviceNotAvailable", 3],
      ].sort(),
    );
    // The create reached the store on its first attempt, under the id its message gives it.
    const created = (await operationsOf(stack, team)).filter((d) => d.operationType === "teamifyGroup");
    expect(created.map((d) => d.operationId)).toEqual([repeatableOperationId(TENANT, team, `queue:${sent.create}`)]);
  }, 90_000);

  it("replays them once the store is back: each applied once, the create not a second time", async () => {
    const { inbox, poison, stack } = world;
    const { stdout } = await replay("operations-inbox");
    expect(stdout).toMatch(
      /^2 messages moved from operations-inbox-poison to operations-inbox \(AzureWebJobsStorage\)/,
    );
    expect(await depth(poison)).toBe(0);
    await waitFor(async () => (await depth(inbox)) === 0, "the replayed messages to be processed", 30_000);
    await waitFor(
      async () => (await operationsOf(stack, team)).find((d) => d.operationId === "kept")?.status === "inProgress",
      "the update",
    );
    const stored = await operationsOf(stack, team);
    expect(stored.map((d) => d.operationType).sort()).toEqual(["cloneTeam", "teamifyGroup"]);
    expect(stored.find((d) => d.operationId === "kept")).toMatchObject({ status: "inProgress", attemptsCount: 1 });
    expect(await depth(poison)).toBe(0);
  }, 60_000);

  it("replays nothing the second time, and says which queue it read", async () => {
    const { stdout } = await replay("operations-inbox-poison");
    expect(stdout).toMatch(/^0 messages moved from operations-inbox-poison to operations-inbox/);
  });

  it("refuses a queue that does not exist, and bad arguments", async () => {
    await expect(replay("no-such-queue")).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/no-such-queue-poison does not exist/),
    });
    await expect(replay("operations-inbox", "--max", "0")).rejects.toMatchObject({ code: 2 });
  });
});
