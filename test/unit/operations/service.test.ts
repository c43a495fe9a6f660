/**
 * The one way operations are created, changed and deleted, over the in-memory store: repeatable creates replay or
 * refuse, updates and deletes weigh preconditions at the write, and a write beaten by another is re-read and retried.
 */
import { describe, expect, it } from "vitest";
import { AlreadyExistsError, PreconditionFailedError, RuleViolationError } from "../../../shared/errors.js";
import { newOperationDocument } from "../../../shared/operations/rules.js";
import {
  createStoredOperation,
  deleteStoredOperation,
  updateStoredOperation,
} from "../../../shared/operations/service.js";
import { MemoryOperationStore } from "../../support/memoryStore.js";

const KEY = { tenantId: "t", teamId: "team", operationId: "op" };
const created = (requestId?: string, fingerprint = "f1") => ({
  ...newOperationDocument(
    { operationType: "cloneTeam", id: KEY.operationId },
    {
      tenantId: KEY.tenantId,
      teamId: KEY.teamId,
      createdBy: { kind: "user", objectId: "u", appId: "a" },
      ttlSeconds: 60,
    },
  ),
  ...(requestId ? { repeatability: { requestId, fingerprint } } : {}),
});

describe("createStoredOperation", () => {
  it("stores a new operation, and finds its id taken by a different request", async () => {
    const store = new MemoryOperationStore();
    expect((await createStoredOperation(store, created())).replayed).toBe(false);
    await expect(createStoredOperation(store, created())).rejects.toBeInstanceOf(AlreadyExistsError);
  });

  it("replays a repeat of the request that created it, and refuses its id reused for another request", async () => {
    const store = new MemoryOperationStore();
    await createStoredOperation(store, created("r1"));
    expect((await createStoredOperation(store, created("r1"))).replayed).toBe(true);
    await expect(createStoredOperation(store, created("r1", "other body"))).rejects.toBeInstanceOf(RuleViolationError);
  });

  it("does not bring back an operation its repeated request created and that was since deleted", async () => {
    const store = new MemoryOperationStore();
    await createStoredOperation(store, created("r1"));
    await deleteStoredOperation(store, KEY, { ttlSeconds: 60 });
    await expect(createStoredOperation(store, created("r1"))).rejects.toBeInstanceOf(RuleViolationError);
    // Another request may take the id a tombstone holds.
    expect((await createStoredOperation(store, created("r2"))).replayed).toBe(false);
  });
});

describe("updateStoredOperation", () => {
  it("applies a change, and writes nothing for one already applied", async () => {
    const store = new MemoryOperationStore();
    await createStoredOperation(store, created());
    const first = await updateStoredOperation(store, KEY, { status: "inProgress" }, { ttlSeconds: 60 });
    expect(first.changed).toBe(true);
    expect(first.stored.document.status).toBe("inProgress");
    expect((await updateStoredOperation(store, KEY, { status: "inProgress" }, { ttlSeconds: 60 })).changed).toBe(false);
  });

  it("refuses a change whose If-Match or If-None-Match the stored version does not allow", async () => {
    const store = new MemoryOperationStore();
    await createStoredOperation(store, created());
    const ifMatch = () => false;
    await expect(
      updateStoredOperation(store, KEY, { status: "inProgress" }, { ttlSeconds: 60, ifMatch }),
    ).rejects.toBeInstanceOf(PreconditionFailedError);
    await expect(
      updateStoredOperation(store, KEY, { status: "inProgress" }, { ttlSeconds: 60, ifNoneMatch: () => true }),
    ).rejects.toBeInstanceOf(PreconditionFailedError);
  });

  it("re-reads and retries a write another got in before, and applies the change", async () => {
    const store = new MemoryOperationStore();
    await createStoredOperation(store, created());
    let beaten = 2;
    const replace = store.replace.bind(store);
    store.replace = async (document, etag) => {
      if (beaten-- > 0) throw new PreconditionFailedError();
      return replace(document, etag);
    };
    const outcome = await updateStoredOperation(store, KEY, { status: "succeeded" }, { ttlSeconds: 60 });
    expect(outcome.stored.document.status).toBe("succeeded");
    expect(beaten).toBe(-1);
  });
});
