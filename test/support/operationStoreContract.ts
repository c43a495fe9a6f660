/**
 * What every OperationStore does, as one suite run against each store
 * (test/integration/store/operationStore.contract.test.ts): the in-memory one
 * the handler tests use, and the Cosmos DB one on the embedded server through
 * @azure/cosmos. Same calls, same assertions, so the fake cannot drift from
 * the store it stands for. Each test works in a tenant of its own; the
 * expected results come from plain predicates over the documents it stored,
 * never from either store. Not in the contract: a continuation the store did
 * not issue (Cosmos DB answers 400, the embedded server starts the query
 * over; the API checks its $skiptoken before any store sees it), and the
 * faults the in-memory store can be told to throw.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AlreadyExistsError, NotFoundError, PreconditionFailedError } from "../../shared/errors.js";
import { parseFilter } from "../../shared/http/odata.js";
import {
  documentId,
  type OperationDocument,
  type OperationStatus,
  type OperationType,
  type Tombstone,
} from "../../shared/operations/model.js";
import type { OrderBy } from "../../shared/operations/query.js";
import type { OperationStore, PageRequest } from "../../shared/store/operations.js";
import { acceptedSorts, orderByText } from "./queryShapes.js";

/** A time on 2026-01-<day>, in the stored format (canonical UTC, seven fractional digits). */
const at = (day: number, hour: number) =>
  `2026-01-${String(day).padStart(2, "0")}T${String(hour).padStart(2, "0")}:00:00.0000000Z`;

const STATUSES: readonly OperationStatus[] = ["notStarted", "inProgress", "succeeded", "failed"];
const TYPES: readonly OperationType[] = ["archiveTeam", "cloneTeam", "createChannel"];

function operation(
  tenantId: string,
  teamId: string,
  operationId: string,
  fields: Partial<OperationDocument> = {},
): OperationDocument {
  return {
    id: documentId(tenantId, operationId),
    teamId,
    tenantId,
    operationId,
    operationType: "archiveTeam",
    status: "inProgress",
    createdDateTime: at(1, 8),
    lastActionDateTime: at(1, 9),
    attemptsCount: 1,
    targetResourceId: null,
    targetResourceLocation: null,
    error: null,
    createdBy: { kind: "application", objectId: undefined, appId: "00000000-0000-0000-0000-0000000000a1" },
    ...fields,
  };
}

function tombstoneOf(document: OperationDocument): Tombstone {
  const { id, teamId, tenantId, operationId } = document;
  return { id, teamId, tenantId, operationId, tombstone: true, deletedDateTime: at(20, 0), ttl: 86_400 };
}

/**
 * 12 operations of one tenant in one team: statuses, types and times in orders that differ from the order they
 * are stored in and from each other. Creation times come in pairs (so a second sort key decides), last-action
 * times are all different.
 */
function twelve(tenantId: string, teamId: string): OperationDocument[] {
  return Array.from({ length: 12 }, (_, i) =>
    operation(tenantId, teamId, `op-${String(i).padStart(2, "0")}`, {
      status: STATUSES[i % STATUSES.length]!,
      operationType: TYPES[i % TYPES.length]!,
      createdDateTime: at(1 + Math.floor(((i * 5) % 12) / 2), 8),
      lastActionDateTime: at(1 + ((i * 7) % 12), 20),
    }),
  );
}

/** The filters a caller can send, each with what it means for one operation. */
const FILTERS: ReadonlyArray<{ readonly text: string; readonly holds: (d: OperationDocument) => boolean }> = [
  { text: "status eq 'failed'", holds: (d) => d.status === "failed" },
  { text: "status ne 'failed'", holds: (d) => d.status !== "failed" },
  { text: "status in ('notStarted', 'inProgress')", holds: (d) => ["notStarted", "inProgress"].includes(d.status) },
  { text: "status gt 'inProgress'", holds: (d) => ["succeeded", "failed"].includes(d.status) },
  { text: "operationType eq 'cloneTeam'", holds: (d) => d.operationType === "cloneTeam" },
  {
    text: "operationType eq microsoft.graph.teamsAsyncOperationType'archiveTeam'",
    holds: (d) => d.operationType === "archiveTeam",
  },
  { text: "createdDateTime gt 2026-01-03T08:00:00Z", holds: (d) => d.createdDateTime > at(3, 8) },
  { text: "createdDateTime ge 2026-01-03T08:00:00Z", holds: (d) => d.createdDateTime >= at(3, 8) },
  { text: "createdDateTime lt 2026-01-03T08:00:00Z", holds: (d) => d.createdDateTime < at(3, 8) },
  { text: "createdDateTime le 2026-01-03T09:00:00+01:00", holds: (d) => d.createdDateTime <= at(3, 8) },
  { text: "lastActionDateTime eq 2026-01-08T20:00:00Z", holds: (d) => d.lastActionDateTime === at(8, 20) },
  { text: "lastActionDateTime ne 2026-01-08T20:00:00Z", holds: (d) => d.lastActionDateTime !== at(8, 20) },
  {
    text: "status eq 'failed' and operationType eq 'cloneTeam'",
    holds: (d) => d.status === "failed" && d.operationType === "cloneTeam",
  },
  {
    text: "status eq 'failed' or lastActionDateTime lt 2026-01-04T00:00:00Z",
    holds: (d) => d.status === "failed" || d.lastActionDateTime < at(4, 0),
  },
  {
    text: "not (status eq 'succeeded' or createdDateTime gt 2026-01-04T00:00:00Z)",
    holds: (d) => !(d.status === "succeeded" || d.createdDateTime > at(4, 0)),
  },
  {
    text: "operationType ne 'archiveTeam' and (status eq 'notStarted' or (lastActionDateTime ge 2026-01-06T00:00:00Z and status ne 'failed'))",
    holds: (d) =>
      d.operationType !== "archiveTeam" &&
      (d.status === "notStarted" || (d.lastActionDateTime >= at(6, 0) && d.status !== "failed")),
  },
  { text: "status eq 'invalid'", holds: () => false },
];

const sortKey = (d: OperationDocument, orderBy: OrderBy) => orderBy.map((k) => d[k.property]);

/** Documents in an $orderby's order (ties left in any order: compare keys, not ids, where keys tie). */
function sorted(documents: readonly OperationDocument[], orderBy: OrderBy): OperationDocument[] {
  return [...documents].sort((a, b) => {
    for (const { property, direction } of orderBy) {
      const order = a[property] < b[property] ? -1 : a[property] > b[property] ? 1 : 0;
      if (order !== 0) return direction === "asc" ? order : -order;
    }
    return 0;
  });
}

const ids = (documents: ReadonlyArray<{ readonly operationId: string }>) => documents.map((d) => d.operationId);

/** Every page of a query, in order, with the size of each. */
async function allPages(
  store: OperationStore,
  tenantId: string,
  teamId: string,
  request: Omit<PageRequest, "continuation">,
): Promise<{ documents: OperationDocument[]; sizes: number[] }> {
  const documents: OperationDocument[] = [];
  const sizes: number[] = [];
  let continuation: string | undefined;
  do {
    const page = await store.query(tenantId, teamId, { ...request, continuation });
    documents.push(...page.operations.map((o) => o.document));
    sizes.push(page.operations.length);
    continuation = page.continuation;
  } while (continuation && sizes.length < 50);
  expect(continuation).toBeUndefined();
  return { documents, sizes };
}

export interface ContractSubject {
  readonly store: () => OperationStore;
}

/** The contract of OperationStore, for one store. */
export function operationStoreContract(subject: ContractSubject): void {
  const store = () => subject.store();
  const scope = () => ({ tenantId: randomUUID(), teamId: randomUUID() });

  async function seeded() {
    const { tenantId, teamId } = scope();
    const mine = twelve(tenantId, teamId);
    for (const document of mine) await store().create(document);
    // What no query of this tenant's team may return: another tenant in the team, the tenant in another team,
    // and a deleted operation.
    const otherTenant = randomUUID();
    await store().create(operation(otherTenant, teamId, "op-00", { status: "failed" }));
    await store().create(operation(tenantId, randomUUID(), "op-00", { status: "failed" }));
    const gone = await store().create(operation(tenantId, teamId, "gone", { status: "failed" }));
    expect(await store().bury(tombstoneOf(gone.document), gone.etag)).toBe(true);
    return { tenantId, teamId, mine };
  }

  describe("creates and reads", () => {
    it("stores a new operation and reads it back as given, with an ETag", async () => {
      const { tenantId, teamId } = scope();
      const document = operation(tenantId, teamId, "one");
      const created = await store().create(document);
      expect(created.document).toEqual(document);
      expect(created.etag).toEqual(expect.any(String));
      expect(await store().read(tenantId, teamId, "one")).toEqual(created);
      expect(await store().readEntry(tenantId, teamId, "one")).toEqual({ kind: "operation", stored: created });
    });

    it("refuses an id already taken in the team, keeping what holds it", async () => {
      const { tenantId, teamId } = scope();
      const created = await store().create(operation(tenantId, teamId, "taken"));
      await expect(store().create(operation(tenantId, teamId, "taken", { status: "failed" }))).rejects.toBeInstanceOf(
        AlreadyExistsError,
      );
      expect(await store().read(tenantId, teamId, "taken")).toEqual(created);
    });

    it("lets another tenant, or another team, use the same operation id", async () => {
      const { tenantId, teamId } = scope();
      await store().create(operation(tenantId, teamId, "same"));
      const other = randomUUID();
      await store().create(operation(other, teamId, "same", { status: "failed" }));
      await store().create(operation(tenantId, randomUUID(), "same", { status: "succeeded" }));
      expect((await store().read(tenantId, teamId, "same"))?.document.status).toBe("inProgress");
      expect((await store().read(other, teamId, "same"))?.document.status).toBe("failed");
    });

    it("reads nothing for an id no one created, or in another tenant or team", async () => {
      const { tenantId, teamId } = scope();
      await store().create(operation(tenantId, teamId, "mine"));
      expect(await store().read(tenantId, teamId, "absent")).toBeUndefined();
      expect(await store().readEntry(tenantId, teamId, "absent")).toBeUndefined();
      expect(await store().read(randomUUID(), teamId, "mine")).toBeUndefined();
      expect(await store().read(tenantId, randomUUID(), "mine")).toBeUndefined();
    });
  });

  describe("replaces, only the version it was given", () => {
    it("replaces with the current ETag, and the ETag changes", async () => {
      const { tenantId, teamId } = scope();
      const created = await store().create(operation(tenantId, teamId, "r"));
      const changed = { ...created.document, status: "succeeded" as const, attemptsCount: 2 };
      const replaced = await store().replace(changed, created.etag);
      expect(replaced.document).toEqual(changed);
      expect(replaced.etag).not.toBe(created.etag);
      expect(await store().read(tenantId, teamId, "r")).toEqual(replaced);
    });

    it("refuses a stale ETag (PreconditionFailedError) and keeps the stored version", async () => {
      const { tenantId, teamId } = scope();
      const created = await store().create(operation(tenantId, teamId, "r"));
      const first = await store().replace({ ...created.document, attemptsCount: 2 }, created.etag);
      await expect(store().replace({ ...created.document, attemptsCount: 3 }, created.etag)).rejects.toBeInstanceOf(
        PreconditionFailedError,
      );
      expect(await store().read(tenantId, teamId, "r")).toEqual(first);
    });

    it("answers NotFoundError for an operation that is not there", async () => {
      const { tenantId, teamId } = scope();
      const created = await store().create(operation(tenantId, teamId, "r"));
      await expect(
        store().replace({ ...created.document, id: documentId(tenantId, "never"), operationId: "never" }, created.etag),
      ).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe("deletes by a tombstone", () => {
    it("buries with the current ETag: reads see nothing, the entry is the tombstone", async () => {
      const { tenantId, teamId } = scope();
      const created = await store().create(operation(tenantId, teamId, "d"));
      const tombstone = tombstoneOf(created.document);
      expect(await store().bury(tombstone, created.etag)).toBe(true);
      expect(await store().read(tenantId, teamId, "d")).toBeUndefined();
      const entry = await store().readEntry(tenantId, teamId, "d");
      expect(entry).toEqual({ kind: "tombstone", tombstone, etag: expect.any(String) });
      expect((await store().query(tenantId, teamId, request())).operations).toEqual([]);
      expect(await store().count(tenantId, teamId, undefined)).toBe(0);
    });

    it("refuses a stale ETag (PreconditionFailedError), and answers false for what is not there", async () => {
      const { tenantId, teamId } = scope();
      const created = await store().create(operation(tenantId, teamId, "d"));
      await store().replace({ ...created.document, attemptsCount: 2 }, created.etag);
      await expect(store().bury(tombstoneOf(created.document), created.etag)).rejects.toBeInstanceOf(
        PreconditionFailedError,
      );
      expect(await store().read(tenantId, teamId, "d")).toBeDefined();
      const never = operation(tenantId, teamId, "never");
      expect(await store().bury(tombstoneOf(never), created.etag)).toBe(false);
    });

    it("keeps the id taken by its tombstone, which a replace with the tombstone's ETag brings back", async () => {
      const { tenantId, teamId } = scope();
      const created = await store().create(operation(tenantId, teamId, "d"));
      await store().bury(tombstoneOf(created.document), created.etag);
      await expect(store().create(operation(tenantId, teamId, "d"))).rejects.toBeInstanceOf(AlreadyExistsError);
      const entry = await store().readEntry(tenantId, teamId, "d");
      if (entry?.kind !== "tombstone") throw new Error("expected the tombstone");
      const again = operation(tenantId, teamId, "d", { status: "notStarted" });
      const replaced = await store().replace(again, entry.etag);
      expect(await store().read(tenantId, teamId, "d")).toEqual(replaced);
    });
  });

  describe("lists a tenant's operations in one team", () => {
    it("returns each operation of the team with its ETag, and nothing of other tenants, teams or tombstones", async () => {
      const { tenantId, teamId, mine } = await seeded();
      const page = await store().query(tenantId, teamId, request({ top: 100 }));
      expect(ids(page.operations.map((o) => o.document)).sort()).toEqual(ids(mine).sort());
      expect(page.continuation).toBeUndefined();
      for (const { document, etag } of page.operations) {
        expect(await store().read(tenantId, teamId, document.operationId)).toEqual({ document, etag });
      }
    });

    it.each(FILTERS)("filters by $text", async ({ text, holds }) => {
      const { tenantId, teamId, mine } = await seeded();
      const filter = parseFilter(text, false);
      const expected = ids(mine.filter(holds)).sort();
      const page = await store().query(tenantId, teamId, request({ filter, top: 100, count: true }));
      expect(ids(page.operations.map((o) => o.document)).sort()).toEqual(expected);
      expect(page.count).toBe(expected.length);
      expect(await store().count(tenantId, teamId, filter)).toBe(expected.length);
    });

    it("orders by every $orderby the API accepts", async () => {
      const { tenantId, teamId, mine } = await seeded();
      const sorts = acceptedSorts();
      expect(sorts.length).toBeGreaterThanOrEqual(4);
      for (const orderBy of sorts) {
        const page = await store().query(tenantId, teamId, request({ orderBy, top: 100 }));
        const found = page.operations.map((o) => o.document);
        expect(
          found.map((d) => sortKey(d, orderBy)),
          orderByText(orderBy),
        ).toEqual(sorted(mine, orderBy).map((d) => sortKey(d, orderBy)));
        expect(ids(found).sort()).toEqual(ids(mine).sort());
      }
    });

    it("filters and orders together", async () => {
      const { tenantId, teamId, mine } = await seeded();
      const orderBy: OrderBy = [{ property: "lastActionDateTime", direction: "desc" }];
      const filter = parseFilter("status eq 'inProgress' or status eq 'failed'", false);
      const page = await store().query(tenantId, teamId, request({ filter, orderBy, top: 100 }));
      expect(ids(page.operations.map((o) => o.document))).toEqual(
        ids(
          sorted(
            mine.filter((d) => d.status === "inProgress" || d.status === "failed"),
            orderBy,
          ),
        ),
      );
    });

    it("pages: at most $top a page, none empty, every operation once, in order across pages", async () => {
      const { tenantId, teamId, mine } = await seeded();
      const orderBy: OrderBy = [{ property: "lastActionDateTime", direction: "asc" }];
      const ordered = await allPages(store(), tenantId, teamId, request({ orderBy, top: 5 }));
      expect(ids(ordered.documents)).toEqual(ids(sorted(mine, orderBy)));
      expect(ordered.sizes).toEqual([5, 5, 2]);
      const unordered = await allPages(store(), tenantId, teamId, request({ top: 5 }));
      expect(ids(unordered.documents).sort()).toEqual(ids(mine).sort());
      expect(unordered.sizes.every((size) => size > 0 && size <= 5)).toBe(true);
    });

    it("counts every match when asked, on every page", async () => {
      const { tenantId, teamId, mine } = await seeded();
      const filter = parseFilter("status ne 'succeeded'", false);
      const expected = mine.filter((d) => d.status !== "succeeded").length;
      const first = await store().query(tenantId, teamId, request({ filter, top: 2, count: true }));
      expect(first.count).toBe(expected);
      const second = await store().query(tenantId, teamId, {
        ...request({ filter, top: 2, count: true }),
        continuation: first.continuation,
      });
      expect(second.count).toBe(expected);
      expect((await store().query(tenantId, teamId, request({ filter, top: 2 }))).count).toBeUndefined();
      expect(await store().count(tenantId, teamId, undefined)).toBe(mine.length);
    });
  });

  describe("finds stale running operations for the sweeper", () => {
    it("finds the running operations of every team not written since the cutoff, page by page, and no others", async () => {
      const { tenantId, mine } = await seeded();
      const running = mine.filter((d) => d.status === "notStarted" || d.status === "inProgress");
      const mineFound = async (cutoff: Date) => {
        const found: OperationDocument[] = [];
        let continuation: string | undefined;
        let pages = 0;
        do {
          const page = await store().findStale(cutoff, 2, continuation);
          expect(page.operations.length).toBeLessThanOrEqual(2);
          for (const { document, etag } of page.operations) {
            expect(etag).toEqual(expect.any(String));
            if (document.tenantId === tenantId) found.push(document);
          }
          continuation = page.continuation;
          pages++;
        } while (continuation && pages < 1_000);
        expect(continuation).toBeUndefined();
        return found;
      };
      // The other team of the tenant holds one failed operation; only this tenant's running ones are stale.
      const later = await mineFound(new Date(Date.now() + 60_000));
      expect(ids(later).sort()).toEqual(ids(running).sort());
      expect(await mineFound(new Date(Date.now() - 60_000))).toEqual([]);
    });
  });

  it("answers a ping", async () => {
    expect(await store().ping(5_000)).toBe(true);
  });
}

function request(fields: Partial<PageRequest> = {}): PageRequest {
  return { filter: undefined, orderBy: undefined, top: 20, continuation: undefined, ...fields };
}
