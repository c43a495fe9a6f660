/**
 * Concurrency over real HTTP, checked by reading the store: many creates at
 * once all stored; deletes racing updates end either deleted or wholly
 * updated, never resurrected or half-written, never a 5xx. (One-winner
 * conditional updates and concurrent repeatable creates are in
 * test/integration/lifecycle.test.ts.)
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_TENANT_ID } from "../../local/devIdentity.js";
import { call, type ApiResponse } from "../support/http.js";
import { startStack, type Stack } from "../support/stack.js";

let stack: Stack;
let app: string;

beforeAll(async () => {
  stack = await startStack();
  app = await stack.token({ app: true });
});
afterAll(() => stack?.stop());

const collection = (team: string) => `${stack.baseUrl}/teams/${team}/operations`;
const stored = async (team: string, id: string) =>
  (await stack.container.item(`${DEV_TENANT_ID}:${id}`, team).read<Record<string, unknown>>()).resource;
const teamDocs = async (team: string) => (await stack.documents()).filter((d) => d.teamId === team);
/** What a delete leaves in an operation's place: its tombstone, which no read, list or count shows. */
const isTombstone = (doc: Record<string, unknown> | undefined) => doc?.tombstone === true && !("status" in doc);
const representation = (doc: Record<string, unknown>) => ({
  status: doc.status,
  attemptsCount: doc.attemptsCount,
  targetResourceId: doc.targetResourceId,
  error: doc.error,
  lastActionDateTime: doc.lastActionDateTime,
});

function noServerErrors(results: readonly ApiResponse[]): void {
  for (const r of results) expect(r.status, r.text).toBeLessThan(500);
}

describe("concurrent creates", () => {
  it("stores every one of 60 concurrent creates with distinct client ids", async () => {
    const team = randomUUID();
    const ids = Array.from({ length: 60 }, (_, i) => `c-${i}-${randomUUID()}`);
    const results = await Promise.all(
      ids.map((id) => call(collection(team), { method: "POST", token: app, body: { id, operationType: "cloneTeam" } })),
    );
    expect(results.map((r) => r.status)).toEqual(ids.map(() => 201));
    const docs = await teamDocs(team);
    expect(docs.map((d) => d.operationId).sort()).toEqual([...ids].sort());
  });

  it("stores every one of 60 concurrent creates with server ids, all distinct", async () => {
    const team = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 60 }, () =>
        call(collection(team), { method: "POST", token: app, body: { operationType: "createTeam" } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(results.map(() => 201));
    const ids = new Set(results.map((r) => r.json.id as string));
    expect(ids.size).toBe(60);
    expect(new Set((await teamDocs(team)).map((d) => d.operationId))).toEqual(ids);
  });

  it("lets exactly one of 20 concurrent creates with the same client id win", async () => {
    const team = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(collection(team), {
          method: "POST",
          token: app,
          body: { id: "same", operationType: "cloneTeam", attemptsCount: i },
        }),
      ),
    );
    noServerErrors(results);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(19);
    const winner = results.find((r) => r.status === 201)!;
    const docs = await teamDocs(team);
    expect(docs).toHaveLength(1);
    expect(docs[0]!.attemptsCount).toBe(winner.json.attemptsCount);
  });
});

describe("deletes racing updates", () => {
  it("end deleted, or updated as one of the winning responses says: 10 rounds with If-Match on the delete", async () => {
    for (let round = 0; round < 10; round++) {
      const team = randomUUID();
      const created = await call(collection(team), {
        method: "POST",
        token: app,
        body: { operationType: "cloneTeam", status: "inProgress" },
      });
      const url = `${collection(team)}/${created.json.id}`;
      const etag = created.headers.get("etag")!;
      const patches = Array.from({ length: 6 }, (_, i) =>
        call(url, {
          method: "PATCH",
          token: app,
          body: { attemptsCount: i + 1, targetResourceId: `writer-${i}`, error: { code: `e${i}`, message: `m${i}` } },
          headers: i % 2 === 0 ? { "if-match": etag } : {},
        }),
      );
      const deletes = Array.from({ length: 2 }, () =>
        call(url, { method: "DELETE", token: app, headers: { "if-match": etag } }),
      );
      const results = await Promise.all([...patches, ...deletes]);
      noServerErrors(results);
      const patchResults = results.slice(0, 6);
      const deleteResults = results.slice(6);
      for (const r of patchResults) expect([200, 404, 409, 412]).toContain(r.status);
      for (const r of deleteResults) expect([204, 404, 412]).toContain(r.status);

      const doc = await stored(team, created.json.id);
      if (deleteResults.some((r) => r.status === 204)) {
        expect(isTombstone(doc), `round ${round}: deleted, yet present`).toBe(true);
        expect(deleteResults.filter((r) => r.status === 204)).toHaveLength(1);
      } else {
        expect(doc, `round ${round}: not deleted, yet absent`).toBeDefined();
        expect(isTombstone(doc), `round ${round}: not deleted, yet absent`).toBe(false);
        const winners = patchResults.filter((r) => r.status === 200).map((r) => representation(r.json));
        expect(winners.length).toBeGreaterThan(0);
        expect(winners).toContainEqual(representation(doc!));
      }
      // Nothing comes back later.
      await new Promise((r) => setTimeout(r, 20));
      expect(await stored(team, created.json.id)).toEqual(doc);
    }
  });

  it("never resurrects a deleted operation: unconditional delete against 8 updates", async () => {
    for (let round = 0; round < 5; round++) {
      const team = randomUUID();
      const created = await call(collection(team), {
        method: "POST",
        token: app,
        body: { operationType: "cloneTeam" },
      });
      const url = `${collection(team)}/${created.json.id}`;
      const results = await Promise.all([
        ...Array.from({ length: 8 }, (_, i) =>
          call(url, { method: "PATCH", token: app, body: { status: "inProgress", attemptsCount: i } }),
        ),
        call(url, { method: "DELETE", token: app }),
      ]);
      noServerErrors(results);
      expect(results[8]!.status).toBe(204);
      for (const r of results.slice(0, 8)) expect([200, 404, 409]).toContain(r.status);
      expect((await teamDocs(team)).map(isTombstone)).toEqual([true]);
      const after = await call(url, { method: "PATCH", token: app, body: { status: "inProgress" } });
      expect(after.status).toBe(404);
      expect((await teamDocs(team)).map(isTombstone)).toEqual([true]);
    }
  });
});
