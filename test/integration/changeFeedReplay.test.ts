/**
 * Replaying what a change-feed function dead-lettered, through the local runner, Azurite and `npm run
 * replay-poison` (the script users run): dead-lettered changes go back on the delivery queue and reach the
 * subscriber as the same notifications, with the same ids, that the change feed delivered or would have; dead-
 * lettered completion events go back on the events queue as they were.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { QueueClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_TENANT_ID } from "../../local/devIdentity.js";
import { completionEvents } from "../../shared/events/completion.js";
import { deadLetteredChanges } from "../../shared/subscriptions/deadLetteredChanges.js";
import { call } from "../support/http.js";
import { waitFor } from "../support/receiver.js";
import { inMinutes, receiverPool, subscriptionCalls } from "../support/subscriptionCalls.js";
import { PROJECT_ROOT, startQueuedStack, type QueuedStack } from "../support/stack.js";

const run = promisify(execFile);
const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

let stack: QueuedStack;
let token: string;
const receivers = receiverPool();
const { subscribed } = subscriptionCalls(
  () => stack.baseUrl,
  () => token,
);
const queue = (name: string) => new QueueClient(stack.azurite.connectionString, name);
const depth = async (name: string) => (await queue(name).getProperties()).approximateMessagesCount ?? 0;
const replay = (name: string) =>
  run(process.execPath, [`${PROJECT_ROOT}/scripts/replay-poison.js`, name], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, AzureWebJobsStorage: stack.azurite.connectionString },
  });

beforeAll(async () => {
  stack = await startQueuedStack({
    AzureFunctionsJobHost__extensions__queues__visibilityTimeout: "00:00:00",
    SUBSCRIPTION_RETRY_SCHEDULE_SECONDS: "1,1,1",
  });
  token = await stack.token({ app: true });
  for (const name of [
    "subscription-deliveries",
    "subscription-deliveries-poison",
    "operation-events",
    "operation-events-poison",
  ]) {
    await queue(name).createIfNotExists();
  }
});
afterAll(async () => {
  await stack?.stop();
  await receivers.close();
});

describe("replaying dead-lettered change-feed batches", () => {
  it("delivers dead-lettered changes as the change feed does: the same notification, with the same id", async () => {
    const team = randomUUID();
    const receiver = await receivers.start();
    await subscribed({
      changeType: "created",
      notificationUrl: receiver.url,
      resource: `teams/${team}/operations`,
      expirationDateTime: inMinutes(30),
      clientState: "replayed",
    });
    const id = `replay-${randomUUID()}`;
    const created = await call(`${stack.baseUrl}/teams/${team}/operations`, {
      method: "POST",
      token,
      body: { id, operationType: "cloneTeam" },
    });
    expect(created.status, created.text).toBe(201);
    const [fromFeed] = await waitFor(
      () => (receiver.acknowledged.length > 0 ? receiver.acknowledged : undefined),
      "the notification",
    );

    // The same change, as the change-feed function dead-letters it after its last retry.
    const stored = (await stack.container.item(`${DEV_TENANT_ID}:${id}`, team).read<Record<string, unknown>>())
      .resource!;
    for (const message of deadLetteredChanges([stored], "the store was down")) {
      await queue("subscription-deliveries-poison").sendMessage(b64(message));
    }
    const { stdout } = await replay("subscription-deliveries");
    expect(stdout).toMatch(/^1 message moved from subscription-deliveries-poison to subscription-deliveries/);

    await waitFor(() => (receiver.acknowledged.length > 1 ? true : undefined), "the replayed notification");
    expect(receiver.acknowledged[1]).toEqual(fromFeed);
    expect(fromFeed).toMatchObject({ changeType: "created", clientState: "replayed", resourceData: { id } });
    expect(await depth("subscription-deliveries-poison")).toBe(0);
  }, 60_000);

  it("puts dead-lettered completion events back on the events queue as they were", async () => {
    const now = new Date().toISOString();
    const [event] = completionEvents([
      {
        id: `${DEV_TENANT_ID}:ev`,
        tenantId: DEV_TENANT_ID,
        teamId: randomUUID(),
        operationId: "ev",
        operationType: "archiveTeam",
        status: "failed",
        createdDateTime: now,
        lastActionDateTime: now,
        attemptsCount: 0,
        targetResourceId: null,
        targetResourceLocation: null,
        error: { code: "x", message: "y" },
        _etag: '"1"',
      },
    ]);
    await queue("operation-events-poison").sendMessage(b64(JSON.stringify(event)));
    await replay("operation-events");
    const { receivedMessageItems } = await queue("operation-events").receiveMessages({ numberOfMessages: 32 });
    const replayed = receivedMessageItems.map((m) => JSON.parse(Buffer.from(m.messageText, "base64").toString("utf8")));
    expect(replayed).toContainEqual(event);
    expect(await depth("operation-events-poison")).toBe(0);
  });
});
