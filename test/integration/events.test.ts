/**
 * Event-driven callers against Azurite and the embedded Cosmos DB server:
 * the queue inbox (through the local runner, with the host's Base64, dequeue
 * count and poison semantics), the sweeper and completion events (the local
 * change-feed emulation tells documents apart by team and id).
 */
import { createHash, randomUUID } from "node:crypto";
import { QueueClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_TENANT_ID } from "../../local/devIdentity.js";
import { startAzuriteQueue, type Azurite } from "../../local/azurite.js";
import { completionEvents } from "../../shared/events/completion.js";
import { processInboxMessage } from "../../shared/events/inbox.js";
import { sweepStaleOperations } from "../../shared/events/sweeper.js";
import { StoreContainer } from "../../shared/store/cosmos.js";
import { CosmosOperationStore, type OperationStore } from "../../shared/store/operations.js";
import { call, OTHER_TENANT } from "../support/http.js";
import { freePort, startStack, type Stack } from "../support/stack.js";
import { startSwitchableProxy, type SwitchableProxy } from "../support/switchableProxy.js";

const TENANT = DEV_TENANT_ID;

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const b64 = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value), "utf8").toString("base64");

describe("the queue inbox, the completion events and a store outage, through the local runner", () => {
  let azurite: Azurite;
  let stack: Stack;
  let proxy: SwitchableProxy;
  let embeddedEndpoint = "";
  let inbox: QueueClient;
  let poison: QueueClient;
  let events: QueueClient;
  const team = randomUUID();

  beforeAll(async () => {
    azurite = await startAzuriteQueue(await freePort());
    proxy = await startSwitchableProxy(() => embeddedEndpoint);
    stack = await startStack({
      cosmosEndpointFor: (endpoint) => {
        embeddedEndpoint = endpoint;
        return proxy.endpoint;
      },
      env: {
        LOCAL_QUEUES: "on",
        AUTH_TENANTS: TENANT,
        AzureWebJobsStorage: azurite.connectionString,
        AzureFunctionsJobHost__extensions__queues__visibilityTimeout: "00:00:00",
        AzureFunctionsJobHost__extensions__queues__maxDequeueCount: "3",
        // The change-feed emulation's polls are counted in the debug log (morePolls).
        LOG_LEVEL: "debug",
      },
    });
    inbox = new QueueClient(azurite.connectionString, "operations-inbox");
    poison = new QueueClient(azurite.connectionString, "operations-inbox-poison");
    events = new QueueClient(azurite.connectionString, "operation-events");
    await Promise.all([inbox.createIfNotExists(), poison.createIfNotExists(), events.createIfNotExists()]);
  });
  afterAll(async () => {
    await stack?.stop();
    await proxy?.close();
    await azurite?.close();
  });

  /** How many times the runner has polled the store for the completion events' change feed. */
  const polls = () => {
    const counted = [...stack.output().matchAll(/\[publishCompletionEvents\] change feed poll (\d+) done/g)];
    return counted.length > 0 ? Number(counted.at(-1)![1]) : 0;
  };
  /** Waits until the change feed has been polled this many more times: whatever they would publish is published. */
  const morePolls = async (n: number) => {
    const from = polls();
    await waitFor(async () => (polls() >= from + n ? true : undefined), `${n} more polls of the change feed`);
  };
  const stored = async (id: string) =>
    (await stack.container.item(`${TENANT}:${id}`, team).read<Record<string, any>>()).resource;
  const drain = async (queue: QueueClient) => {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 1 });
    for (const m of receivedMessageItems) await queue.deleteMessage(m.messageId, m.popReceipt);
    return receivedMessageItems.map((m) => JSON.parse(Buffer.from(m.messageText, "base64").toString("utf8")));
  };
  const inboxEmpty = async () => ((await inbox.getProperties()).approximateMessagesCount === 0 ? true : undefined);

  it("applies a create message and then an update message", async () => {
    await inbox.sendMessage(
      b64({ action: "create", tenantId: TENANT, teamId: team, operation: { id: "q-1", operationType: "cloneTeam" } }),
    );
    const created = await waitFor(async () => await stored("q-1"), "the created operation");
    expect(created).toMatchObject({
      operationType: "cloneTeam",
      status: "notStarted",
      createdBy: { kind: "queue", queue: "operations-inbox", messageId: expect.stringMatching(/.+/) },
    });
    await inbox.sendMessage(
      b64({
        action: "update",
        tenantId: TENANT,
        teamId: team,
        operationId: "q-1",
        changes: { status: "inProgress", attemptsCount: 1 },
      }),
    );
    const updated = await waitFor(
      async () => ((await stored("q-1"))?.status === "inProgress" ? await stored("q-1") : undefined),
      "the update",
    );
    expect(updated.attemptsCount).toBe(1);
  });

  it("stores one document for a duplicate delivery, and treats a repeated update as applied", async () => {
    const create = b64({
      action: "create",
      tenantId: TENANT,
      teamId: team,
      operation: { id: "q-dup", operationType: "archiveTeam" },
    });
    const update = b64({
      action: "update",
      tenantId: TENANT,
      teamId: team,
      operationId: "q-dup",
      changes: { attemptsCount: 2 },
    });
    await inbox.sendMessage(create);
    await waitFor(async () => await stored("q-dup"), "the first delivery");
    await inbox.sendMessage(create);
    await inbox.sendMessage(update);
    await inbox.sendMessage(update);
    await waitFor(inboxEmpty, "the inbox to drain");
    const docs = (await stack.documents()).filter((d) => d.operationId === "q-dup");
    expect(docs).toHaveLength(1);
    expect(docs[0]!.attemptsCount).toBe(2);
    expect(await drain(poison)).toEqual([]);
  });

  it("poisons a non-JSON and an invalid message at once, with reasons, storing nothing", async () => {
    const before = await stack.documents();
    const notJson = await inbox.sendMessage(b64("this is not json"));
    await inbox.sendMessage(
      b64({
        action: "create",
        tenantId: TENANT,
        teamId: team,
        operation: { operationType: "unknownFutureValue", colour: "red" },
      }),
    );
    await inbox.sendMessage(
      b64({
        action: "update",
        tenantId: TENANT,
        teamId: team,
        operationId: "never-created",
        changes: { status: "inProgress" },
      }),
    );
    await inbox.sendMessage(b64({ action: "delete", tenantId: TENANT, teamId: team }));
    const poisoned = await waitFor(async () => {
      const got = await drain(poison);
      return got.length > 0 ? got : undefined;
    }, "poisoned messages");
    while (poisoned.length < 4) poisoned.push(...(await drain(poison)));
    const byCode = Object.fromEntries(poisoned.map((p) => [p.reason.code, p]));
    expect(Object.keys(byCode).sort()).toEqual(["invalidMessage", "invalidRequest", "itemNotFound", "notJson"]);
    expect(byCode.notJson.message).toBe("this is not json");
    expect(byCode.notJson.dequeueCount).toBe(1);
    // The message's id reaches the handler in its trigger metadata, as the host sends it.
    expect(byCode.notJson.messageId).toBe(notJson.messageId);
    expect(byCode.invalidRequest.reason.details.map((d: { target: string }) => d.target).sort()).toEqual([
      "colour",
      "operationType",
    ]);
    expect(byCode.itemNotFound.message.operationId).toBe("never-created");
    expect(byCode.invalidMessage.reason.details[0].target).toBe("action");
    expect(await stack.documents()).toEqual(before);
  });

  it("does not create again, on a repeated message, an operation that was deleted", async () => {
    await drain(poison);
    const message = b64({
      action: "create",
      tenantId: TENANT,
      teamId: team,
      operation: { id: "q-deleted", operationType: "cloneTeam" },
    });
    await inbox.sendMessage(message);
    await waitFor(async () => await stored("q-deleted"), "the created operation");
    const token = await stack.token({ app: true });
    const url = `${stack.baseUrl}/teams/${team}/operations/q-deleted`;
    expect((await call(url, { method: "DELETE", token })).status).toBe(204);

    await inbox.sendMessage(message);
    const [poisoned] = await waitFor(async () => {
      const got = await drain(poison);
      return got.length > 0 ? got : undefined;
    }, "the repeated message to be poisoned");
    expect(poisoned.reason).toMatchObject({
      code: "notAllowed",
      message: expect.stringMatching(/has since been deleted/),
    });
    expect(poisoned.dequeueCount).toBe(1);
    expect((await call(url, { token })).status).toBe(404);
    expect(await stored("q-deleted")).toMatchObject({ tombstone: true });
  });

  it("checks queue messages as HTTP bodies are checked, within the tenant allow-list", async () => {
    await drain(poison);
    const before = await stack.documents();
    const create = (operation: unknown, tenantId = TENANT) => ({ action: "create", tenantId, teamId: team, operation });
    const messages = {
      loneSurrogate: create({ operationType: "cloneTeam", targetResourceId: "a\ud800b" }),
      loneSurrogateName: create({ operationType: "cloneTeam", "\udfff": 1 }),
      deep: create({ operationType: "cloneTeam", error: JSON.parse(`${'{"a":'.repeat(40)}1${"}".repeat(40)}`) }),
      polluting: JSON.parse(
        `{"action":"create","tenantId":"${TENANT}","teamId":"${team}","operation":{"operationType":"cloneTeam","__proto__":{"isAdmin":true}}}`,
      ) as unknown,
      otherTenant: create({ id: "foreign", operationType: "cloneTeam" }, OTHER_TENANT),
    };
    for (const message of Object.values(messages)) await inbox.sendMessage(b64(message));
    const poisoned: any[] = [];
    await waitFor(async () => {
      poisoned.push(...(await drain(poison)));
      return poisoned.length >= 5 ? true : undefined;
    }, "five poisoned messages");
    const reasons = poisoned.map((p) => `${p.reason.code}: ${p.reason.message}`).sort();
    expect(reasons).toEqual([
      expect.stringMatching(/^accessDenied: The tenant e1e1e1e1-.* is not one this service accepts/),
      "invalidRequest: The message contains a string that is not valid Unicode (a lone surrogate).",
      "invalidRequest: The message contains a string that is not valid Unicode (a lone surrogate).",
      "invalidRequest: The message nests objects or arrays deeper than 32 levels.",
      "invalidRequest: The message uses a forbidden property name: __proto__.",
    ]);
    expect(poisoned.every((p) => p.dequeueCount === 1)).toBe(true);
    expect(await stack.documents()).toEqual(before);
  });

  it("poisons at once, with its reason, a message whose record would not fit and one nested too deeply to write", async () => {
    await drain(poison);
    const printed = stack.output().length;
    // Control characters: six bytes each once escaped in a JSON record, so the record of this 45 KB message would
    // be 270 KB, four times what a queue message holds.
    const huge = "\u0001".repeat(45_000);
    // Deep enough that the host's indented text of its record would be megabytes, not so deep that the Functions
    // library's own conversion of the trigger's data overflows before the app runs (docs/reliability.md).
    const deep = `{"action":"create","tenantId":"${TENANT}","teamId":"${team}","operation":${"[".repeat(2_000)}${"]".repeat(2_000)}}`;
    await inbox.sendMessage(b64(huge));
    await inbox.sendMessage(b64(deep));
    const poisoned: any[] = [];
    await waitFor(async () => {
      poisoned.push(...(await drain(poison)));
      return poisoned.length >= 2 ? true : undefined;
    }, "two poisoned messages");
    const byCode = Object.fromEntries(poisoned.map((p) => [p.reason?.code, p]));
    expect(byCode.notJson).toMatchObject({
      dequeueCount: 1,
      messageTruncated: true,
      messageBytes: 45_000,
      messageSha256: createHash("sha256").update(huge).digest("hex"),
    });
    expect(huge.startsWith(byCode.notJson.message)).toBe(true);
    const nested = poisoned.find((p) => p.reason?.code !== "notJson");
    expect(nested.reason).toMatchObject({
      code: "invalidRequest",
      message: expect.stringMatching(/nests .* deeper than/),
    });
    expect(nested.dequeueCount).toBe(1);
    expect(stack.output().slice(printed)).not.toMatch(/will be retried|moved to/);
  });

  it("emits exactly one CloudEvents completion event per finished operation, by any path", async () => {
    await drain(events);
    const started = Date.now();
    const token = await stack.token({ app: true });
    const http = (path: string, method: string, body: unknown) =>
      call(`${stack.baseUrl}/teams/${team}/operations${path}`, { method, token, body });
    // Its job says it last acted in 2016: the event's time is still the server's time of the change.
    const lastActed = "2016-12-31T23:56:44.8542569+03:00";
    const created = await http("", "POST", {
      id: "ev-http",
      operationType: "createTeam",
      status: "succeeded",
      lastActionDateTime: lastActed,
    });
    expect(created.status, created.text).toBe(201);
    expect((await http("", "POST", { id: "ev-patch", operationType: "cloneTeam" })).status).toBe(201);
    expect((await http("/ev-patch", "PATCH", { status: "failed", error: { code: "x", message: "y" } })).status).toBe(
      200,
    );
    await inbox.sendMessage(
      b64({ action: "update", tenantId: TENANT, teamId: team, operationId: "q-1", changes: { status: "succeeded" } }),
    );
    const seen: any[] = [];
    await waitFor(async () => {
      seen.push(...(await drain(events)));
      return seen.length >= 3 ? true : undefined;
    }, "three completion events");
    await morePolls(4); // more polls of the feed: no duplicates may follow
    seen.push(...(await drain(events)));
    const subjects = seen.map((e) => `${e.subject}:${e.data.status}`).sort();
    expect(subjects).toEqual(["ev-http:succeeded", "ev-patch:failed", "q-1:succeeded"]);
    for (const event of seen) {
      expect(event).toMatchObject({
        specversion: "1.0",
        source: `/teams/${team}/operations`,
        type: `microsoft.graph.teamsAsyncOperation.${event.data.status}`,
        datacontenttype: "application/json",
        data: { tenantId: TENANT, teamId: team, id: event.subject },
      });
      expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(Date.parse(event.time)).toBeGreaterThanOrEqual(started - 1_000);
      expect(Date.parse(event.time)).toBeLessThanOrEqual(Date.now());
    }
    expect(seen.find((e) => e.subject === "ev-http").data.lastActionDateTime).toBe("2016-12-31T20:56:44.8542569Z");
    expect(new Set(seen.map((e) => e.id)).size).toBe(3);
  });

  it("publishes one event per team when two teams finish operations with the same id, and never again", async () => {
    await drain(events);
    const token = await stack.token({ app: true });
    const otherTeam = randomUUID();
    const seen: any[] = [];
    // One after the other, so each is its own change-feed batch.
    for (const [i, teamId] of [team, otherTeam].entries()) {
      const res = await call(`${stack.baseUrl}/teams/${teamId}/operations`, {
        method: "POST",
        token,
        body: { id: "ev-shared", operationType: "archiveTeam", status: "succeeded" },
      });
      expect(res.status, res.text).toBe(201);
      await waitFor(
        async () => {
          seen.push(...(await drain(events)));
          return seen.length > i ? true : undefined;
        },
        `completion event ${i + 1}`,
      );
    }
    await morePolls(4); // more polls of the feed: the emulation must not republish
    seen.push(...(await drain(events)));
    expect(seen.map((e) => `${e.source}:${e.subject}`).sort()).toEqual(
      [`/teams/${team}/operations:ev-shared`, `/teams/${otherTeam}/operations:ev-shared`].sort(),
    );
  });

  it("never republishes same-id documents of two teams changed together", async () => {
    await drain(events);
    const token = await stack.token({ app: true });
    // Together, so both carry the same _ts and come back in every poll of that second.
    await Promise.all(
      [randomUUID(), randomUUID()].map(async (teamId) => {
        const res = await call(`${stack.baseUrl}/teams/${teamId}/operations`, {
          method: "POST",
          token,
          body: { id: "ev-twin", operationType: "archiveTeam", status: "succeeded" },
        });
        expect(res.status, res.text).toBe(201);
      }),
    );
    await waitFor(async () => ((await drain(events)).length > 0 ? true : undefined), "a completion event");
    await morePolls(2);
    await drain(events);
    await morePolls(4); // four more polls of the feed
    expect(await drain(events)).toEqual([]);
  });

  it("retries a message while the store is down, then poisons it at its last attempt with why and its id", async () => {
    await drain(poison);
    const message = {
      action: "create",
      tenantId: TENANT,
      teamId: team,
      operation: { id: "q-outage", operationType: "cloneTeam" },
    };
    proxy.setDown(true);
    let sent;
    try {
      sent = await inbox.sendMessage(b64(message));
      const poisoned = await waitFor(
        async () => {
          const got = await drain(poison);
          return got.length > 0 ? got : undefined;
        },
        "the message to be poisoned at its last attempt (maxDequeueCount)",
        60_000,
      );
      // The app's own record of its last attempt: the reason an HTTP caller would get, the message's id (which a
      // replay keeps), and the message as it was.
      expect(poisoned).toEqual([
        {
          reason: {
            code: "serviceNotAvailable",
            message: expect.stringMatching(/^Still failing after 3 attempts: /),
            details: [],
          },
          messageId: sent.messageId,
          dequeueCount: 3,
          poisonedAt: expect.any(String),
          message,
        },
      ]);
      expect(stack.output()).toMatch(/will be retried/);
      expect(stack.output()).not.toMatch(/moved to operations-inbox-poison/);
    } finally {
      proxy.setDown(false);
    }
    expect(await stored("q-outage")).toBeUndefined();
  }, 90_000);

  /** Collects events for the given subjects until `count` distinct ids have arrived, and a while longer. */
  async function distinctEvents(subjects: readonly string[], count: number): Promise<Map<string, any>> {
    const byId = new Map<string, any>();
    const collect = async () => {
      for (const event of await drain(events)) if (subjects.includes(event.subject)) byId.set(event.id, event);
    };
    await waitFor(async () => {
      await collect();
      return byId.size >= count ? true : undefined;
    }, `${count} completion events`);
    await morePolls(4); // more polls of the feed: only duplicates of these may follow
    await collect();
    return byId;
  }

  it("gives two events, with two ids, when operations with one id finish in two teams", async () => {
    const token = await stack.token({ app: true });
    const otherTeam = randomUUID();
    for (const t of [team, otherTeam]) {
      const res = await call(`${stack.baseUrl}/teams/${t}/operations`, {
        method: "POST",
        token,
        body: { id: "same-id", operationType: "cloneTeam", status: "succeeded" },
      });
      expect(res.status, res.text).toBe(201);
    }
    const byId = await distinctEvents(["same-id"], 2);
    expect(byId.size).toBe(2);
    expect([...byId.values()].map((e) => e.data.teamId).sort()).toEqual([team, otherTeam].sort());
  });

  it("gives a new event id to an operation deleted and created again, and the same id to a redelivered change", async () => {
    const token = await stack.token({ app: true });
    const url = `${stack.baseUrl}/teams/${team}/operations`;
    const finish = async () => {
      const res = await call(url, {
        method: "POST",
        token,
        body: { id: "again", operationType: "cloneTeam", status: "failed", error: { code: "x" } },
      });
      expect(res.status, res.text).toBe(201);
      // The change as the feed delivers it: the stored document with the store's system properties.
      return (await stack.container.item(`${TENANT}:again`, team).read<Record<string, unknown>>()).resource!;
    };
    const first = await finish();
    const [firstId, ...more] = [...(await distinctEvents(["again"], 1)).keys()];
    expect(more).toEqual([]);
    expect((await call(`${url}/again`, { method: "DELETE", token })).status).toBe(204);
    const second = await finish();
    const [secondId, ...others] = [...(await distinctEvents(["again"], 1)).keys()];
    expect(others).toEqual([]);
    expect(secondId).not.toBe(firstId);

    // Each event's id is the one the same change gives whenever it is delivered again, in any batch.
    for (const [change, id] of [
      [first, firstId],
      [second, secondId],
    ] as const) {
      expect(completionEvents([change]).map((e) => e.id)).toEqual([id]);
      expect(completionEvents([change, { ...change }]).map((e) => e.id)).toEqual([id]);
    }
  });
});

describe("inbox, sweeper and completion logic against the real store", () => {
  let stack: Stack;
  let store: OperationStore;
  const team = randomUUID();
  const ttlSeconds = 86_400;

  beforeAll(async () => {
    stack = await startStack();
    store = new CosmosOperationStore(new StoreContainer(stack.container));
  });
  afterAll(() => stack?.stop());

  const inboxContext = {
    get store() {
      return store;
    },
    ttlSeconds,
    queueName: "operations-inbox",
    tenants: "*" as const,
  };

  it("stores a create without an id once per queue message, however often it is delivered", async () => {
    const message = {
      action: "create" as const,
      tenantId: TENANT,
      teamId: team,
      operation: { operationType: "cloneTeam" },
    };
    const first = await processInboxMessage(message, { ...inboxContext, messageId: "message-1" });
    const again = await processInboxMessage(message, { ...inboxContext, messageId: "message-1" });
    const other = await processInboxMessage(message, { ...inboxContext, messageId: "message-2" });
    expect(first.changed).toBe(true);
    expect(again).toEqual({ ...first, changed: false });
    expect(other.operationId).not.toBe(first.operationId);
  });

  it("fails only operations nobody has written for the deadline, by the store's clock, and loses a race to a worker", async () => {
    await Promise.all(
      (await stack.documents()).map((d) => stack.container.item(String(d.id), String(d.teamId)).delete()),
    );
    const token = await stack.token({ app: true });
    const create = async (id: string, status: string) => {
      const res = await call(`${stack.baseUrl}/teams/${team}/operations`, {
        method: "POST",
        token,
        body: { id, operationType: "cloneTeam", status, ...(status === "failed" ? { error: { code: "x" } } : {}) },
      });
      expect(res.status, res.text).toBe(201);
    };
    await create("stale-running", "inProgress");
    await create("stale-waiting", "notStarted");
    await create("stale-but-done", "failed");
    await create("raced", "inProgress");
    // The store stamps each write with its own clock in whole seconds (`_ts`): let that second pass, then write
    // "fresh". A sweep an hour after that second's end (deadline 60 minutes) finds the others stale, and not it.
    const lastStale = Math.max(...(await stack.documents()).map((d) => Number(d._ts)));
    while (Math.floor(Date.now() / 1000) <= lastStale) await new Promise((r) => setTimeout(r, 50));
    await create("fresh", "inProgress");
    const now = new Date((lastStale + 1) * 1000 + 60 * 60_000);

    // A worker reports progress on "raced" just as the sweeper is about to write.
    let raced = false;
    const racedReplace: OperationStore["replace"] = async (document, etag) => {
      if (document.operationId === "raced" && !raced) {
        raced = true;
        const res = await call(`${stack.baseUrl}/teams/${team}/operations/raced`, {
          method: "PATCH",
          token,
          body: { attemptsCount: 2 },
        });
        expect(res.status).toBe(200);
      }
      return store.replace(document, etag);
    };
    const racing = new Proxy(store, {
      get: (target, property) => {
        if (property === "replace") return racedReplace;
        const value: unknown = Reflect.get(target, property);
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });

    const result = await sweepStaleOperations(racing, { deadlineMinutes: 60, batchSize: 2, ttlSeconds, now });
    const read = async (id: string) => (await store.read(TENANT, team, id))!.document;
    expect(result.failed.map((id) => id.split(":")[1]).sort()).toEqual(["stale-running", "stale-waiting"]);
    expect(result.skipped).toBe(1);
    for (const id of ["stale-running", "stale-waiting"]) {
      expect(await read(id)).toMatchObject({ status: "failed", error: { code: "operationTimedOut" }, ttl: ttlSeconds });
    }
    expect((await read("fresh")).status).toBe("inProgress");
    expect((await read("stale-but-done")).error).toEqual({ code: "x", message: null });
    expect(await read("raced")).toMatchObject({ status: "inProgress", attemptsCount: 2, error: null });
    expect(raced).toBe(true);
  });

  it("makes one event per finished document in a batch, ignoring running ones and duplicates of a change", () => {
    const doc = (operationId: string, status: string, etag: string, teamId = team) => ({
      id: `${TENANT}:${operationId}`,
      operationId,
      teamId,
      tenantId: TENANT,
      operationType: "cloneTeam",
      status,
      createdDateTime: "2030-01-01T00:00:00.0000000Z",
      lastActionDateTime: "2030-01-01T00:00:01.0000000Z",
      attemptsCount: 0,
      targetResourceId: null,
      targetResourceLocation: null,
      error: null,
      _etag: etag,
    });
    const batch = [
      doc("a", "succeeded", "v1"),
      doc("b", "inProgress", "v1"),
      doc("a", "succeeded", "v1"), // the same change, delivered twice
      doc("a", "succeeded", "v2"), // a later write: deleted and created again
      doc("a", "succeeded", "v1", randomUUID()), // another team's operation with the same id
      doc("c", "failed", "v1"),
      { id: "junk" },
    ];
    const ids = completionEvents(batch).map((e) => e.id);
    expect(completionEvents(batch).map((e) => e.subject)).toEqual(["a", "a", "a", "c"]);
    expect(new Set(ids).size).toBe(4);
    expect(completionEvents([batch[0]!])[0]!.id).toBe(ids[0]);
  });
});
