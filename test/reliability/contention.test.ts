/**
 * Contention without 5xx: concurrent unconditional PATCHes of one operation,
 * over HTTP and through the queue, against two local runner processes on one
 * store (as two instances of the Function App would be). Every change is
 * applied in some order or refused by the rules (409); none is a 503 from the
 * compare-and-swap, none is retried or poisoned on the queue.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CosmosClient, type Container } from "@azure/cosmos";
import { QueueClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzuriteQueue, type Azurite } from "../../local/azurite.js";
import { DEV_TENANT_ID, ensureDevKeys, mintDevToken, type DevKeys } from "../../local/devIdentity.js";
import { ensureLocalContainer, startEmbeddedCosmos, type EmbeddedCosmos } from "../../local/embeddedCosmos.js";
import { cosmosClientOptions } from "../../shared/store/cosmos.js";
import { call, type ApiResponse } from "../support/http.js";
import { freePort, spawnRunner, type Runner } from "../support/stack.js";
import { COSMOS_DEFAULTS } from "../../shared/config.js";

const devDir = mkdtempSync(join(tmpdir(), "teamops-contention-"));
let cosmos: EmbeddedCosmos;
let client: CosmosClient;
let container: Container;
let azurite: Azurite;
let runners: Runner[] = [];
let keys: DevKeys;
let token: string;
let inbox: QueueClient;
let poison: QueueClient;

beforeAll(async () => {
  keys = await ensureDevKeys(devDir);
  cosmos = await startEmbeddedCosmos();
  await ensureLocalContainer(cosmos.endpoint, cosmos.key, COSMOS_DEFAULTS.database, COSMOS_DEFAULTS.container);
  client = new CosmosClient({ endpoint: cosmos.endpoint, key: cosmos.key, ...cosmosClientOptions(cosmos.endpoint) });
  container = client.database(COSMOS_DEFAULTS.database).container(COSMOS_DEFAULTS.container);
  azurite = await startAzuriteQueue(await freePort());
  const env = {
    COSMOS_ENDPOINT: cosmos.endpoint,
    COSMOS_KEY: cosmos.key,
    TEAMOPS_DEV_DIR: devDir,
    AzureWebJobsStorage: azurite.connectionString,
    AzureFunctionsJobHost__extensions__queues__visibilityTimeout: "00:00:00",
  };
  runners = await Promise.all([spawnRunner(env), spawnRunner(env)]);
  token = await mintDevToken({ app: true }, keys);
  inbox = new QueueClient(azurite.connectionString, "operations-inbox");
  poison = new QueueClient(azurite.connectionString, "operations-inbox-poison");
  await Promise.all([inbox.createIfNotExists(), poison.createIfNotExists()]);
}, 120_000);
afterAll(async () => {
  await Promise.all(runners.map((r) => r.stop()));
  await azurite?.close();
  client?.dispose();
  await cosmos?.close();
  rmSync(devDir, { recursive: true, force: true });
});

const team = randomUUID();
const url = (runner: Runner, id = "") => `${runner.baseUrl}/teams/${team}/operations${id ? `/${id}` : ""}`;
const stored = async (id: string) =>
  (await container.item(`${DEV_TENANT_ID}:${id}`, team).read<Record<string, unknown>>()).resource!;

async function created(): Promise<string> {
  const res = await call(url(runners[0]!), { method: "POST", token, body: { operationType: "cloneTeam" } });
  expect(res.status, res.text).toBe(201);
  return res.json.id as string;
}

const patch = (runner: Runner, id: string, body: Record<string, unknown>) =>
  call(url(runner, id), { method: "PATCH", token, body });

function expectNoServerErrors(answers: readonly ApiResponse[]): void {
  const failed = answers.filter((res) => res.status >= 500).map((res) => `${res.status} ${res.text}`);
  expect(failed).toEqual([]);
}

describe("concurrent unconditional PATCHes of one operation", () => {
  for (const writers of [10, 60]) {
    it(`applies all ${writers} over HTTP to one instance, in some order`, async () => {
      const id = await created();
      const answers = await Promise.all(
        Array.from({ length: writers }, (_, i) =>
          patch(runners[0]!, id, { status: "inProgress", targetResourceLocation: `writer-${i}` }),
        ),
      );
      expectNoServerErrors(answers);
      expect(answers.map((res) => res.status)).toEqual(answers.map(() => 200));
      const locations = new Set(answers.map((_, i) => `writer-${i}`));
      expect(locations.has(String((await stored(id)).targetResourceLocation))).toBe(true);
    });

    it(`applies or refuses by the rules (409) all ${writers} of a counter, over HTTP to two instances`, async () => {
      const id = await created();
      const answers = await Promise.all(
        Array.from({ length: writers }, (_, i) => patch(runners[i % 2]!, id, { attemptsCount: i + 1 })),
      );
      expectNoServerErrors(answers);
      for (const res of answers) {
        expect([200, 409], res.text).toContain(res.status);
        if (res.status === 409) expect(res.json.error.target).toBe("attemptsCount");
      }
      // attemptsCount never decreases, so the highest is applied whenever its turn comes, and nothing after it.
      expect((await stored(id)).attemptsCount).toBe(writers);
    });
  }

  it("applies all 60 over HTTP split over two instances, which race each other's compare-and-swap", async () => {
    const id = await created();
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        patch(runners[i % 2]!, id, { status: "inProgress", targetResourceLocation: `writer-${i}` }),
      ),
    );
    expectNoServerErrors(answers);
    expect(answers.map((res) => res.status)).toEqual(answers.map(() => 200));
  });

  it("applies 60 through the queue, consumed by both instances, while HTTP writers of the same operation run", async () => {
    const id = await created();
    const before = runners.map((r) => r.output().length);
    const messages = Array.from({ length: 60 }, (_, i) =>
      Buffer.from(
        JSON.stringify({
          action: "update",
          tenantId: DEV_TENANT_ID,
          teamId: team,
          operationId: id,
          changes: { status: "inProgress", targetResourceId: `queue-${i}` },
        }),
      ).toString("base64"),
    );
    const [answers] = await Promise.all([
      Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          patch(runners[i % 2]!, id, { status: "inProgress", targetResourceLocation: `http-${i}` }),
        ),
      ),
      Promise.all(messages.map((m) => inbox.sendMessage(m))),
    ]);
    expectNoServerErrors(answers);
    const deadline = Date.now() + 60_000;
    while ((await inbox.getProperties()).approximateMessagesCount !== 0) {
      if (Date.now() > deadline) throw new Error("the inbox did not drain");
      await new Promise((r) => setTimeout(r, 200));
    }
    const applied = runners.map((r, i) => r.output().slice(before[i]));
    expect(applied.join("\n")).not.toMatch(/will be retried|poisoned|moved to/);
    expect((await poison.peekMessages({ numberOfMessages: 32 })).peekedMessageItems).toEqual([]);
    const doc = await stored(id);
    expect(String(doc.targetResourceId)).toMatch(/^queue-\d+$/);
    expect(String(doc.targetResourceLocation)).toMatch(/^http-\d+$/);
  }, 90_000);
});
