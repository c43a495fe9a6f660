/**
 * The representation round trip as a property over real HTTP: any valid
 * operation created through the API reads back (GET, list, the store) exactly
 * as written, timestamps included: converted to UTC on the text, every digit
 * kept.
 */
import { randomUUID } from "node:crypto";
import { fc } from "@fast-check/vitest";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DEV_TENANT_ID } from "../../local/devIdentity.js";
import { toCanonicalUtc } from "../../shared/operations/timestamps.js";
import { call } from "../support/http.js";
import { startStack, type Stack } from "../support/stack.js";
import { createBody, text } from "./arbitraries.js";

let stack: Stack;
let app: string;
const prefer = { prefer: "include-unknown-enum-members" };

beforeAll(async () => {
  stack = await startStack();
  app = await stack.token({ app: true });
});
afterAll(() => stack?.stop());

it("stores and reads back every valid operation as written", async () => {
  await fc.assert(
    fc.asyncProperty(createBody(true), async (body) => {
      const team = randomUUID(); // a fresh team per run: generated ids may repeat
      const collection = `${stack.baseUrl}/teams/${team}/operations`;
      const created = await call(collection, { method: "POST", token: app, body, headers: prefer });
      expect(created.status, created.text).toBe(201);
      const rep = created.json;
      const error = body.error as { code?: string | null; message?: string | null } | null | undefined;
      expect(rep).toEqual({
        "@odata.context": expect.any(String),
        "@odata.type": "#microsoft.graph.teamsAsyncOperation",
        "@odata.etag": created.headers.get("etag"),
        id: body.id ?? expect.any(String),
        operationType: body.operationType,
        createdDateTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/),
        status: body.status ?? "notStarted",
        lastActionDateTime: body.lastActionDateTime
          ? toCanonicalUtc(body.lastActionDateTime as string)
          : rep.createdDateTime,
        attemptsCount: body.attemptsCount ?? 0,
        targetResourceId: body.targetResourceId ?? null,
        targetResourceLocation: body.targetResourceLocation ?? null,
        // An error with neither a code nor a message is no error.
        error: error?.code || error?.message ? { code: error.code ?? null, message: error.message ?? null } : null,
      });

      const read = await call(`${collection}/${rep.id}`, { token: app, headers: prefer });
      expect(read.json).toEqual(rep);

      const filter = encodeURIComponent(`lastActionDateTime eq ${rep.lastActionDateTime}`);
      const listed = await call(`${collection}?$filter=${filter}`, { token: app, headers: prefer });
      // A collection item carries its own @odata.etag, not the entity's context or type.
      const item = Object.fromEntries(Object.entries(rep).filter(([k]) => k === "@odata.etag" || !k.startsWith("@")));
      expect(listed.json.value).toEqual([item]);

      const doc = (await stack.container.item(`${DEV_TENANT_ID}:${rep.id}`, team).read()).resource;
      for (const key of Object.keys(rep).filter((k) => !k.startsWith("@") && k !== "id"))
        expect(doc[key]).toEqual(rep[key]);
    }),
    { numRuns: 60 },
  );
}, 120_000);

it("keeps any Unicode text through an update", async () => {
  const collection = `${stack.baseUrl}/teams/${randomUUID()}/operations`;
  await fc.assert(
    fc.asyncProperty(text(200), text(200), text(256, 1), async (resource, location, code) => {
      const created = await call(collection, { method: "POST", token: app, body: { operationType: "cloneTeam" } });
      const change = {
        status: "inProgress",
        targetResourceId: resource,
        targetResourceLocation: location,
        error: { code, message: location },
      };
      const patched = await call(`${collection}/${created.json.id}`, { method: "PATCH", token: app, body: change });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.json).toMatchObject(change);
      const read = await call(`${collection}/${created.json.id}`, { token: app });
      expect(read.json).toEqual(patched.json);
    }),
    { numRuns: 40 },
  );
}, 120_000);
