/**
 * The sweeper, on its timer in the local runner (every second here, with a
 * one-minute deadline), judges staleness by the store's time of the last
 * write, never by a client's lastActionDateTime: the README's example, Graph's
 * documented example (which says its job last acted in 2016) and an operation
 * stored with a lastActionDateTime years old stay running.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DEV_TENANT_ID } from "../../local/devIdentity.js";
import { call, TEAM } from "../support/http.js";
import { SEED_BODY } from "../support/seed.js";
import { PROJECT_ROOT, startStack, type Stack } from "../support/stack.js";

let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = await startStack({
    env: { SWEEPER_SCHEDULE: "* * * * * *", SWEEPER_DEADLINE_MINUTES: "1", LOG_LEVEL: "debug" },
  });
  token = await stack.token({ app: true });
});
afterAll(() => stack?.stop());

const collection = () => `${stack.baseUrl}/teams/${TEAM}/operations`;
const sweeps = () => stack.output().match(/sweeper: examined/g)?.length ?? 0;

async function waitForSweeps(count: number): Promise<void> {
  const target = sweeps() + count;
  const deadline = Date.now() + 30_000;
  while (sweeps() < target) {
    if (Date.now() > deadline) throw new Error(`the sweeper did not run:\n${stack.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The body of the README's first create example (`curl ... -d '{...}'`). */
function readmeExample(): Record<string, unknown> {
  const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
  const body = /-d '(\{"operationType":[^']*\})'/.exec(readme)?.[1];
  if (!body) throw new Error("no create example in README.md");
  return JSON.parse(body) as Record<string, unknown>;
}

it("leaves the README's example and an operation with an old lastActionDateTime running", async () => {
  const example = await call(collection(), { method: "POST", token, body: readmeExample() });
  expect(example.status, example.text).toBe(201);
  expect(example.json.status).toBe("inProgress");

  // Stored as earlier versions accepted it: running, and a lastActionDateTime from 2016. Written now.
  const legacyId = "legacy-2016";
  await stack.container.items.create({
    id: `${DEV_TENANT_ID}:${legacyId}`,
    teamId: TEAM,
    tenantId: DEV_TENANT_ID,
    operationId: legacyId,
    operationType: "archiveTeam",
    status: "inProgress",
    createdDateTime: "2016-12-31T20:50:00.0000000Z",
    lastActionDateTime: "2016-12-31T20:56:44.8542569Z",
    attemptsCount: 13,
    targetResourceId: null,
    targetResourceLocation: null,
    error: null,
    createdBy: { kind: "application", objectId: undefined, appId: undefined },
  });

  await waitForSweeps(3);
  for (const id of [example.json.id as string, legacyId]) {
    const read = await call(`${collection()}/${id}`, { token });
    expect(read.status, read.text).toBe(200);
    expect(read.json.status).toBe("inProgress");
    expect(read.json.error).toBeNull();
  }
});

it("keeps Graph's documented example, whose job last acted in 2016, running", async () => {
  const seed = await call(collection(), { method: "POST", token, body: SEED_BODY });
  expect(seed.status, seed.text).toBe(201);
  expect(seed.json.lastActionDateTime).toBe("2016-12-31T20:56:44.8542569Z");
  const ahead = await call(collection(), {
    method: "POST",
    token,
    body: { operationType: "cloneTeam", status: "inProgress", lastActionDateTime: "9999-12-31T23:59:59Z" },
  });
  expect(ahead.status, ahead.text).toBe(201);

  await waitForSweeps(3);
  for (const id of [seed.json.id as string, ahead.json.id as string]) {
    const read = await call(`${collection()}/${id}`, { token });
    expect(read.json.status).toBe("inProgress");
  }
});
