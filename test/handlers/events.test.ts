/**
 * The queue inbox and the sweeper, in process: the handlers their function
 * files register, over the in-memory store, which a test can make throw the
 * store's errors. What they decide from those errors: a message the service
 * refuses is poisoned at once with the reason an HTTP caller would get, a
 * store fault is thrown for the host to retry, and the sweeper skips what
 * someone else changed. The same paths with Azurite and the runner's queue
 * and timer triggers are in test/integration/events.test.ts and sweeper.test.ts.
 */
import { randomUUID } from "node:crypto";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEV_TENANT_ID } from "../../local/devIdentity.js";
import { PreconditionFailedError, ThrottledError, UnavailableError } from "../../shared/errors.js";
import type { OperationDocument } from "../../shared/operations/model.js";
import { TEAM } from "../support/http.js";
import { loadInProcessApp, type InProcessApp, type Invocation } from "../support/inProcess.js";
import { queueRetry } from "../../shared/events/queueRetry.js";

let app: InProcessApp;
let poisonBinding: string;

beforeAll(async () => {
  app = await loadInProcessApp();
  const inbox = app.functions.find((f) => f.name === "processOperationsInbox")!;
  poisonBinding = Object.values(inbox.bindings).find((b) => b.direction === "out" && b.type === "queue")!.name;
});
beforeEach(() => app.store.clearFaults());

const message = (body: Record<string, unknown>) => JSON.stringify({ tenantId: DEV_TENANT_ID, teamId: TEAM, ...body });

function deliver(payload: unknown, id = randomUUID(), dequeueCount = 1): Promise<Invocation> {
  return app.invoke("processOperationsInbox", payload, { triggerMetadata: { id, dequeueCount } });
}

function poisonRecord(invocation: Invocation): any {
  const written = invocation.context.extraOutputs.get(poisonBinding) as Buffer | undefined;
  return written === undefined ? undefined : JSON.parse(written.toString("utf8"));
}

const stored = (operationId: string) =>
  app.store.documents().find((d) => d.operationId === operationId) as OperationDocument | undefined;

describe("the queue inbox", () => {
  it("applies a create once, however often the message is delivered", async () => {
    const id = `q-${randomUUID()}`;
    const create = message({ action: "create", operation: { id, operationType: "cloneTeam" } });
    const messageId = randomUUID();
    const printed = app.logs.length;
    expect(poisonRecord(await deliver(create, messageId))).toBeUndefined();
    expect(poisonRecord(await deliver(create, messageId, 2))).toBeUndefined();
    expect(app.store.documents().filter((d) => d.operationId === id)).toHaveLength(1);
    expect(stored(id)!.createdBy).toMatchObject({ kind: "queue", messageId });
    expect(app.logs.slice(printed).map((l) => l.message)).toEqual([
      `create ${id} in team ${TEAM}: applied`,
      `create ${id} in team ${TEAM}: already applied`,
    ]);
  });

  it("poisons at once what the service refuses, with the code, message and details an HTTP caller would get", async () => {
    const done = `q-${randomUUID()}`;
    await deliver(
      message({ action: "create", operation: { id: done, operationType: "cloneTeam", status: "succeeded" } }),
    );
    const refusals: Array<[string, string, Record<string, unknown>]> = [
      [
        message({ action: "update", operationId: "never-created", changes: { status: "inProgress" } }),
        "itemNotFound",
        { message: "The operation does not exist." },
      ],
      [
        message({ action: "update", operationId: done, changes: { status: "failed", error: { code: "x" } } }),
        "notAllowed",
        { message: "The operation has succeeded; a finished operation cannot change." },
      ],
      [
        message({ action: "create", operation: { id: done, operationType: "createTeam" } }),
        // Queue creates share one request id: another body under a taken id is a different request.
        "notAllowed",
        { message: "This request id was already used for a different request." },
      ],
      [
        message({ action: "create", operation: { operationType: "cloneTeam", colour: "red" } }),
        "invalidRequest",
        { details: [expect.objectContaining({ code: "unknownProperty", target: "colour" })] },
      ],
      [
        message({ action: "create", operation: { operationType: "cloneTeam" } }).replace(
          '"action"',
          '"action":"update","action"',
        ),
        "invalidRequest",
        { details: [{ code: "duplicateProperty", target: "action", message: "'action' appears more than once." }] },
      ],
    ];
    for (const [payload, code, reason] of refusals) {
      const invocation = await deliver(payload);
      const record = poisonRecord(invocation);
      expect(record, payload).toMatchObject({
        reason: { code, ...reason },
        dequeueCount: 1,
        message: payload,
      });
    }
  });

  it("throws a store fault for the host to retry, poisoning nothing, and applies the message once the store is back", async () => {
    const id = `q-${randomUUID()}`;
    const create = message({ action: "create", operation: { id, operationType: "cloneTeam" } });
    const messageId = randomUUID();
    for (const fault of [
      () => new ThrottledError("The store is busy; retry after the time given.", 3),
      () => new UnavailableError("The store is not available; retry later.", 5),
    ]) {
      app.store.failOn("create", fault);
      const printed = app.logs.length;
      await expect(deliver(create, messageId)).rejects.toBeInstanceOf(fault().constructor);
      expect(app.logs.slice(printed)).toEqual([
        expect.objectContaining({
          level: "warning",
          message: expect.stringMatching(new RegExp(`^message ${messageId} failed \\(attempt 1\\), will be retried: `)),
        }),
      ]);
    }
    expect(stored(id)).toBeUndefined();
    app.store.clearFaults();
    expect(poisonRecord(await deliver(create, messageId, 3))).toBeUndefined();
    expect(stored(id)).toMatchObject({ operationType: "cloneTeam" });
  });

  it("poisons a message still failing at its last attempt (maxDequeueCount) with why, its id and itself", async () => {
    const { maxDequeueCount } = queueRetry();
    const create = JSON.parse(message({ action: "create", operation: { operationType: "cloneTeam" } })) as object;
    const messageId = randomUUID();
    app.store.failOn("create", () => new UnavailableError("The store is not available; retry later.", 5));
    await expect(deliver(create, messageId, maxDequeueCount - 1)).rejects.toBeInstanceOf(UnavailableError);
    const last = await deliver(create, messageId, maxDequeueCount);
    expect(poisonRecord(last)).toEqual({
      reason: {
        code: "serviceNotAvailable",
        message: `Still failing after ${maxDequeueCount} attempts: The store is not available; retry later.`,
        details: [],
      },
      messageId,
      dequeueCount: maxDequeueCount,
      poisonedAt: expect.any(String),
      message: create,
    });
    expect(JSON.stringify(app.store.documents())).not.toContain(messageId);
  });
});

describe("the sweeper", () => {
  const twoHoursAgo = () => Date.now() - 2 * 3_600_000;

  /** Operations nobody has written for two hours: past the 60-minute deadline. */
  async function stale(count: number): Promise<string[]> {
    app.store.now = twoHoursAgo;
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = `stale-${randomUUID()}`;
      await deliver(message({ action: "create", operation: { id, operationType: "cloneTeam", status: "inProgress" } }));
      ids.push(id);
    }
    app.store.now = () => Date.now();
    return ids;
  }

  const sweep = () => app.invoke("sweepStuckOperations", { isPastDue: false });

  it("fails what is stuck past the deadline, and skips what someone else changed before it could write", async () => {
    const [stuck] = await stale(1);
    const printed = app.logs.length;
    await sweep();
    expect(stored(stuck!)).toMatchObject({ status: "failed", error: { code: "operationTimedOut" } });
    expect(app.logs.slice(printed).at(-1)?.message).toBe(
      "sweeper: examined 1, failed 1 (operationTimedOut), skipped 0",
    );

    const [raced] = await stale(1);
    app.store.failOn("replace", () => new PreconditionFailedError());
    await sweep();
    expect(stored(raced!)).toMatchObject({ status: "inProgress" });
    expect(app.logs.at(-1)?.message).toBe("sweeper: examined 1, failed 0 (operationTimedOut), skipped 1");
  });

  it("ends its run on a store fault, for the next run to continue", async () => {
    const [waiting] = await stale(1);
    app.store.failOn("replace", () => new UnavailableError("The store is not available; retry later.", 5));
    await expect(sweep()).rejects.toBeInstanceOf(UnavailableError);
    app.store.clearFaults();
    await sweep();
    expect(stored(waiting!)).toMatchObject({ status: "failed" });
  });
});
