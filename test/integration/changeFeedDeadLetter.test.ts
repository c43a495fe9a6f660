/**
 * The change-feed functions' last retry, in process (the handlers their function files register, invoked with the
 * host's retry context) against Azurite behind a proxy that can refuse a queue, or everything: a batch that fails
 * before its last retry is thrown back for the host to retry; at its last retry its completion events, or its
 * changes, go to the poison queue; when even that fails, the loss is an error naming the documents, never silence.
 * The replay of dead-lettered changes through the runner is in changeFeedReplay.test.ts.
 */
import { randomUUID } from "node:crypto";
import { QueueClient } from "@azure/storage-queue";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEV_TENANT_ID } from "../../local/devIdentity.js";
import { devStorageConnectionString, startAzuriteQueue, type Azurite } from "../../local/azurite.js";
import { CHANGE_FEED_RETRY } from "../../shared/events/changeFeed.js";
import { completionEvents } from "../../shared/events/completion.js";
import { parseDeadLetteredChanges } from "../../shared/subscriptions/deadLetteredChanges.js";
import { TEAM } from "../support/http.js";
import { loadInProcessApp, type InProcessApp } from "../support/inProcess.js";
import { freePort } from "../support/stack.js";
import { startSwitchableProxy, type SwitchableProxy } from "../support/switchableProxy.js";

const LAST = { retryCount: CHANGE_FEED_RETRY.maxRetryCount, maxRetryCount: CHANGE_FEED_RETRY.maxRetryCount };
const EARLIER = { retryCount: 3, maxRetryCount: CHANGE_FEED_RETRY.maxRetryCount };

let azurite: Azurite;
let proxy: SwitchableProxy;
let app: InProcessApp;
const queue = (name: string) => new QueueClient(azurite.connectionString, name);

/** A finished operation as the change feed delivers it, with the store's system properties. */
function finished(operationId = `cf-${randomUUID()}`) {
  const now = new Date().toISOString();
  return {
    id: `${DEV_TENANT_ID}:${operationId}`,
    tenantId: DEV_TENANT_ID,
    teamId: TEAM,
    operationId,
    operationType: "cloneTeam",
    status: "succeeded",
    createdDateTime: now,
    lastActionDateTime: now,
    attemptsCount: 1,
    targetResourceId: "a-target",
    targetResourceLocation: null,
    error: null,
    _etag: `"${randomUUID()}"`,
    _ts: Math.floor(Date.now() / 1000) - 30,
    _rid: "Aw8AAJ2+xH0BAAAAAAAAAA==",
    _self: "dbs/Aw8AAA==/colls/Aw8AAJ2+xH0=/docs/Aw8AAJ2+xH0BAAAAAAAAAA==/",
    _attachments: "attachments/",
    _lsn: 12,
  };
}

async function drain(name: string): Promise<any[]> {
  const got: any[] = [];
  for (;;) {
    const { receivedMessageItems } = await queue(name).receiveMessages({ numberOfMessages: 32, visibilityTimeout: 5 });
    if (receivedMessageItems.length === 0) return got;
    for (const m of receivedMessageItems) {
      got.push(JSON.parse(Buffer.from(m.messageText, "base64").toString("utf8")));
      await queue(name).deleteMessage(m.messageId, m.popReceipt);
    }
  }
}

beforeAll(async () => {
  azurite = await startAzuriteQueue(await freePort());
  proxy = await startSwitchableProxy(() => `http://127.0.0.1:${azurite.port}/`);
  app = await loadInProcessApp({
    // The app reaches the queues through the proxy; the test reads them directly.
    AzureWebJobsStorage: devStorageConnectionString(proxy.port),
    // A store that refuses connections: the notifications' subscription lookups fail at once.
    COSMOS_KEY: Buffer.from("not-a-real-key").toString("base64"),
  });
  for (const name of ["operation-events", "operation-events-poison", "subscription-deliveries-poison"]) {
    await queue(name).createIfNotExists();
  }
});
afterAll(async () => {
  await proxy?.close();
  await azurite?.close();
});
beforeEach(async () => {
  proxy.setDown(false);
  proxy.refuse(undefined);
  for (const name of ["operation-events", "operation-events-poison", "subscription-deliveries-poison"])
    await drain(name);
});

describe("publishCompletionEvents", () => {
  it("sends the completion events of a batch to the events queue", async () => {
    const docs = [finished(), finished()];
    await app.invoke("publishCompletionEvents", docs);
    expect((await drain("operation-events")).map((e) => e.id).sort()).toEqual(
      completionEvents(docs)
        .map((e) => e.id)
        .sort(),
    );
  });

  it("throws a failed batch back for the host to retry, until its last retry", async () => {
    proxy.refuse(/\/operation-events\/messages/);
    const docs = [finished()];
    for (const retryContext of [undefined, EARLIER]) {
      await expect(app.invoke("publishCompletionEvents", docs, { retryContext })).rejects.toThrow();
    }
    expect(await drain("operation-events-poison")).toEqual([]);
    expect(app.logs.at(-1)).toMatchObject({
      level: "warning",
      message: expect.stringMatching(/failed \(retry 3 of 12\)/),
    });
  });

  it("writes the batch's events to the events queue's poison queue at its last retry", async () => {
    proxy.refuse(/\/operation-events\/messages/);
    const docs = [finished(), finished()];
    await app.invoke("publishCompletionEvents", docs, { retryContext: LAST });
    expect(await drain("operation-events-poison")).toEqual(completionEvents(docs));
    expect(await drain("operation-events")).toEqual([]);
    expect(app.logs.at(-1)).toMatchObject({
      level: "error",
      message: expect.stringMatching(/failed its last retry and was written to operation-events-poison/),
    });
  });

  it("reports a batch it could neither send nor dead-letter as lost, naming its documents", async () => {
    proxy.setDown(true);
    const docs = [finished(), finished()];
    await expect(app.invoke("publishCompletionEvents", docs, { retryContext: LAST })).rejects.toMatchObject({
      name: "ChangeFeedBatchLost",
      message: expect.stringContaining(`Documents: ${docs[0]!.id}, ${docs[1]!.id}`),
    });
    expect(app.logs.at(-1)).toMatchObject({ level: "error", message: expect.stringMatching(/effects are lost/) });
  });
});

describe("deliverNotifications", () => {
  it("throws a batch whose subscriptions cannot be read back for the host to retry, until its last retry", async () => {
    await expect(app.invoke("deliverNotifications", [finished()], { retryContext: EARLIER })).rejects.toThrow();
    expect(await drain("subscription-deliveries-poison")).toEqual([]);
  });

  it("writes the changed operations, as delivery reads them, to the delivery queue's poison queue at its last retry", async () => {
    const docs = [finished(), finished()];
    await app.invoke("deliverNotifications", docs, { retryContext: LAST });
    const [message, ...more] = await drain("subscription-deliveries-poison");
    expect(more).toEqual([]);
    const changes = parseDeadLetteredChanges(message);
    // Whole (a replay tells the change by its revision, and rich notifications carry the operation), less the store's
    // own fields but the two a document written before revisions is known by.
    expect(changes?.documents).toEqual(docs.map(({ _rid, _self, _attachments, _lsn, ...kept }) => kept));
  });
});
