/**
 * The operations API's request and response shapes, in process: the handlers
 * the function files register, called with the library's HttpRequest and
 * InvocationContext, over the in-memory store (test/support/inProcess.ts).
 * What the store says is the store's own error types, and a test can make it
 * throw any of them: these tests are about what the HTTP layer makes of them.
 * The same routes over real HTTP, the real store and the local runner are in
 * test/integration (create, lifecycle, auth) and test/reliability (faults).
 */
import { randomUUID } from "node:crypto";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEV_TENANT_ID, DEV_USER_ID } from "../../local/devIdentity.js";
import {
  NotFoundError,
  StoreRejectedError,
  ThrottledError,
  UnavailableError,
  type AppError,
} from "../../shared/errors.js";
import type { OperationDocument } from "../../shared/operations/model.js";
import { storeNotSetUp } from "../../shared/store/cosmos.js";
import { detailTargets, expectGraphError, OTHER_TENANT, TEAM } from "../support/http.js";
import { BASE_URL, loadInProcessApp, type InProcessApp } from "../support/inProcess.js";

let app: InProcessApp;
let appToken: string;
const collection = (team = TEAM) => `teams/${team}/operations`;
const one = (id: string, team = TEAM) => `${collection(team)}/${encodeURIComponent(id)}`;

beforeAll(async () => {
  app = await loadInProcessApp();
  appToken = await app.token({ app: true });
});
beforeEach(() => app.store.clearFaults());

async function create(body: Record<string, unknown> = {}, headers: Record<string, string> = {}, team = TEAM) {
  const res = await app.request("POST", collection(team), {
    token: appToken,
    body: { operationType: "cloneTeam", ...body },
    headers,
  });
  expect(res.status, res.text).toBe(201);
  return res;
}

describe("POST .../operations", () => {
  it("answers 201 with Location, a quoted ETag equal to @odata.etag, Graph's headers and the representation", async () => {
    const res = await app.request("POST", collection(), {
      token: appToken,
      body: { operationType: "archiveTeam", status: "inProgress", attemptsCount: 1 },
      headers: { "client-request-id": "my-correlation-id" },
    });
    expect(res.functionName).toBe("createOperation");
    expect(res.status, res.text).toBe(201);
    const id = res.json.id as string;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(res.headers.get("location")).toBe(`${BASE_URL}/teams/${TEAM}/operations/${id}`);
    expect(res.headers.get("etag")).toMatch(/^"[^"]+"$/);
    expect(res.headers.get("client-request-id")).toBe("my-correlation-id");
    expect(res.headers.get("request-id")).toMatch(/^00000000-0000-4000-8000-\d{12}$/);
    expect(res.headers.get("odata-version")).toBe("4.0");
    expect(res.headers.get("content-type")).toMatch(/^application\/json;odata\.metadata=minimal/);
    expect(res.headers.get("retry-after")).toBeNull();
    expect(res.json).toEqual({
      "@odata.context": `${BASE_URL}/$metadata#teams('${TEAM}')/operations/$entity`,
      "@odata.type": "#microsoft.graph.teamsAsyncOperation",
      "@odata.etag": res.headers.get("etag"),
      id,
      operationType: "archiveTeam",
      status: "inProgress",
      createdDateTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/),
      lastActionDateTime: res.json.createdDateTime,
      attemptsCount: 1,
      targetResourceId: null,
      targetResourceLocation: null,
      error: null,
    });
    // What reached the store: the tenant, the team and the creator, which the representation never shows.
    const stored = app.store.documents().find((d) => d.operationId === id) as OperationDocument;
    expect(stored).toMatchObject({ id: `${DEV_TENANT_ID}:${id}`, tenantId: DEV_TENANT_ID, teamId: TEAM });
    expect(stored.createdBy).toMatchObject({ kind: "application" });
  });

  it("answers 204 without a body for Prefer: return=minimal, saying so in Preference-Applied", async () => {
    const res = await app.request("POST", collection(), {
      token: appToken,
      body: { operationType: "cloneTeam" },
      headers: { prefer: "return=minimal" },
    });
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expect(res.headers.get("preference-applied")).toBe("return=minimal");
    expect(res.headers.get("location")).toMatch(/\/operations\/[0-9a-f-]{36}$/);
    expect(res.headers.get("etag")).toMatch(/^"[^"]+"$/);
  });

  it("is a 409 nameAlreadyExists naming the id when the id is taken, and stores nothing", async () => {
    const id = `taken-${randomUUID()}`;
    await create({ id, operationType: "createTeam" });
    const before = app.store.documents().length;
    const again = await app.request("POST", collection(), {
      token: appToken,
      body: { id, operationType: "cloneTeam" },
    });
    expect(expectGraphError(again, 409, "nameAlreadyExists").target).toBe("id");
    expect(app.store.documents()).toHaveLength(before);
  });

  it("answers a repeat of a repeatable create with the same operation, and the same id with another body with 409", async () => {
    const requestId = randomUUID();
    const headers = { "repeatability-request-id": requestId, "repeatability-first-sent": new Date().toUTCString() };
    const first = await create({ operationType: "archiveTeam" }, headers);
    expect(first.headers.get("repeatability-result")).toBe("accepted");
    const second = await create({ operationType: "archiveTeam" }, headers);
    expect(second.json).toEqual(first.json);
    expect(second.headers.get("repeatability-result")).toBe("accepted");
    expect(app.store.documents().filter((d) => d.repeatability?.requestId === requestId)).toHaveLength(1);
    const different = await app.request("POST", collection(), {
      token: appToken,
      body: { operationType: "cloneTeam" },
      headers,
    });
    expect(expectGraphError(different, 409, "notAllowed").target).toBe("Repeatability-Request-ID");
  });

  it("names every offending property of a bad body, with its own code, in a 400", async () => {
    const res = await app.request("POST", collection(), {
      token: appToken,
      body: { operationType: "cloneTeam", colour: "red", attemptsCount: "1", createdDateTime: "2026-01-01T00:00:00Z" },
    });
    const error = expectGraphError(res, 400, "invalidRequest");
    expect(error.message).toMatch(/^The request body is not a valid teamsAsyncOperation: /);
    expect(error.details.map((d: { code: string; target: string }) => `${d.code}:${d.target}`).sort()).toEqual([
      "invalidType:attemptsCount",
      "readOnlyProperty:createdDateTime",
      "unknownProperty:colour",
    ]);
  });

  it("refuses a body that is not JSON, not well-formed, empty, repeats a name or is too large, each as Graph does", async () => {
    const post = (rawBody: string | undefined, headers: Record<string, string> = {}) =>
      app.request("POST", collection(), {
        token: appToken,
        rawBody,
        headers: { "content-type": "application/json", ...headers },
      });
    expectGraphError(
      await post('{"operationType":"cloneTeam"}', { "content-type": "text/plain" }),
      415,
      "notSupported",
    );
    expect(expectGraphError(await post('{"operationType":'), 400, "invalidRequest").message).toBe(
      "The request body is not well-formed JSON.",
    );
    expect(expectGraphError(await post(""), 400, "invalidRequest").message).toBe(
      "The request body is empty; a JSON object is required.",
    );
    const twice = expectGraphError(
      await post('{"operationType":"cloneTeam","operationType":"createTeam"}'),
      400,
      "invalidRequest",
    );
    expect(twice).toMatchObject({
      target: "operationType",
      details: [{ code: "duplicateProperty", target: "operationType" }],
    });
    const polluting = expectGraphError(
      await post('{"operationType":"cloneTeam","__proto__":{}}'),
      400,
      "invalidRequest",
    );
    expect(detailTargets(polluting)).toEqual(["__proto__"]);
    const large = JSON.stringify({ operationType: "cloneTeam", targetResourceLocation: "x".repeat(40_000) });
    expectGraphError(await post(large), 413, "invalidRequest");
    expect(expectGraphError(await post("[1]"), 400, "invalidRequest").message).toBe(
      "The request body must be a JSON object.",
    );
  });

  it("refuses a caller without a token (401 with a Bearer challenge), without write permission and outside the team (403)", async () => {
    const anonymous = await app.request("POST", collection(), { body: { operationType: "cloneTeam" } });
    expectGraphError(anonymous, 401, "InvalidAuthenticationToken");
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer realm="", authorization_uri="/);
    const reader = await app.token({ app: true, roles: "TeamsAsyncOperation.Read.All" });
    const readOnly = await app.request("POST", collection(), { token: reader, body: { operationType: "cloneTeam" } });
    expect(expectGraphError(readOnly, 403, "accessDenied").message).toMatch(/TeamsAsyncOperation.ReadWrite.All/);
    const outsider = await app.token({ groups: [randomUUID()] });
    const notMember = await app.request("POST", collection(), {
      token: outsider,
      body: { operationType: "cloneTeam" },
    });
    expectGraphError(notMember, 403, "accessDenied");
    const badTeam = await app.request("POST", collection("not-a-guid"), {
      token: appToken,
      body: { operationType: "cloneTeam" },
    });
    expect(expectGraphError(badTeam, 400, "invalidRequest").target).toBe("teamId");
  });

  it("creates for a member of the group on the /me route, recording the user", async () => {
    const member = await app.token({ groups: [TEAM] });
    const res = await app.request("POST", `me/joinedGroups/${TEAM}/team/operations`, {
      token: member,
      body: { operationType: "cloneTeam" },
    });
    expect(res.functionName).toBe("createMyOperation");
    expect(res.status, res.text).toBe(201);
    const stored = app.store.documents().find((d) => d.operationId === res.json.id) as OperationDocument;
    expect(stored.createdBy).toMatchObject({ kind: "user", objectId: DEV_USER_ID });
  });
});

describe("GET .../operations/{id}", () => {
  it("answers 200 with the ETag, and Retry-After only while the operation runs", async () => {
    const running = await create({ status: "inProgress" });
    const read = await app.request("GET", one(running.json.id), { token: appToken });
    expect(read.status).toBe(200);
    expect(read.json).toEqual(running.json);
    expect(read.headers.get("etag")).toBe(running.headers.get("etag"));
    expect(read.headers.get("retry-after")).toBe("5");
    const done = await create({ status: "succeeded" });
    const finished = await app.request("GET", one(done.json.id), { token: appToken });
    expect(finished.status).toBe(200);
    expect(finished.headers.get("retry-after")).toBeNull();
  });

  it("answers 304 with the ETag and no body for a matching If-None-Match", async () => {
    const created = await create();
    const etag = created.headers.get("etag")!;
    const same = await app.request("GET", one(created.json.id), {
      token: appToken,
      headers: { "if-none-match": etag },
    });
    expect(same.status).toBe(304);
    expect(same.text).toBe("");
    expect(same.headers.get("etag")).toBe(etag);
    const other = await app.request("GET", one(created.json.id), {
      token: appToken,
      headers: { "if-none-match": '"stale"' },
    });
    expect(other.status).toBe(200);
  });

  it("selects properties with $select, in the context URL too", async () => {
    const created = await create({ status: "inProgress" });
    const res = await app.request("GET", `${one(created.json.id)}?$select=status,id`, { token: appToken });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      "@odata.context": `${BASE_URL}/$metadata#teams('${TEAM}')/operations(id,status)/$entity`,
      "@odata.type": "#microsoft.graph.teamsAsyncOperation",
      "@odata.etag": created.headers.get("etag"),
      id: created.json.id,
      status: "inProgress",
    });
  });

  it("is a 404 for a missing operation and for another tenant's, and a 400 for an id that cannot exist", async () => {
    const created = await create();
    expectGraphError(await app.request("GET", one("missing"), { token: appToken }), 404, "itemNotFound");
    const foreign = await app.token({ app: true, tenant: OTHER_TENANT });
    const other = await app.request("GET", one(created.json.id), { token: foreign });
    expect(expectGraphError(other, 404, "itemNotFound").message).toBe("The operation does not exist.");
    const bad = await app.request("GET", `${collection()}/bad%20id`, { token: appToken });
    expect(expectGraphError(bad, 400, "invalidRequest").target).toBe("operationId");
  });
});

describe("GET .../operations", () => {
  const team = randomUUID();
  beforeAll(async () => {
    for (let i = 0; i < 5; i++) await create({ id: `page-${i}` }, {}, team);
  });

  it("answers an OData collection, each item with its @odata.etag, paged with an absolute nextLink", async () => {
    const first = await app.request("GET", `${collection(team)}?$top=2&$count=true`, { token: appToken });
    expect(first.status).toBe(200);
    expect(first.json["@odata.context"]).toBe(`${BASE_URL}/$metadata#teams('${team}')/operations`);
    expect(first.json["@odata.count"]).toBe(5);
    expect(first.json.value).toHaveLength(2);
    for (const item of first.json.value) expect(item["@odata.etag"]).toMatch(/^"[^"]+"$/);
    const next = new URL(first.json["@odata.nextLink"] as string);
    expect(`${next.origin}${next.pathname}`).toBe(`${BASE_URL}/${collection(team)}`);
    expect(next.search).toMatch(/^\?\$top=2&\$count=true&\$skiptoken=/);
    const seen = [...first.json.value];
    let link: string | undefined = first.json["@odata.nextLink"];
    while (link) {
      const page = await app.request("GET", link.slice(BASE_URL.length + 1), { token: appToken });
      expect(page.status).toBe(200);
      seen.push(...page.json.value);
      link = page.json["@odata.nextLink"];
    }
    expect(seen.map((o) => o.id).sort()).toEqual(["page-0", "page-1", "page-2", "page-3", "page-4"]);
  });

  it("is a 400 naming $skiptoken for a token it did not issue for this query", async () => {
    const first = await app.request("GET", `${collection(team)}?$top=2`, { token: appToken });
    const token = new URL(first.json["@odata.nextLink"] as string).searchParams.get("$skiptoken")!;
    // Changed, not ours at all, and ours but for another team's collection.
    const refused = [
      [collection(team), `${token}x`],
      [collection(team), "bm90IG91cnM"],
      [collection(randomUUID()), token],
    ];
    for (const [path, skiptoken] of refused) {
      const res = await app.request("GET", `${path}?$top=2&$skiptoken=${encodeURIComponent(skiptoken!)}`, {
        token: appToken,
      });
      expect(expectGraphError(res, 400, "invalidRequest")).toMatchObject({
        message: "Invalid $skiptoken: it was not issued for this query; start again from the first page.",
        target: "$skiptoken",
        details: [{ code: "invalidQueryOption", target: "$skiptoken" }],
      });
    }
  });

  it("counts a team's operations at $count as text/plain", async () => {
    const res = await app.request("GET", `${collection(team)}/$count`, { token: appToken });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain;charset=utf-8");
    expect(res.text).toBe("5");
  });
});

describe("PATCH .../operations/{id}", () => {
  it("answers 200 with the changed operation and a new ETag, or 204 for Prefer: return=minimal", async () => {
    const created = await create();
    const patched = await app.request("PATCH", one(created.json.id), {
      token: appToken,
      body: { status: "inProgress", attemptsCount: 1 },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json).toMatchObject({ id: created.json.id, status: "inProgress", attemptsCount: 1 });
    expect(patched.headers.get("etag")).not.toBe(created.headers.get("etag"));
    expect(patched.json["@odata.etag"]).toBe(patched.headers.get("etag"));
    const minimal = await app.request("PATCH", one(created.json.id), {
      token: appToken,
      body: { attemptsCount: 2 },
      headers: { prefer: "return=minimal" },
    });
    expect(minimal.status).toBe(204);
    expect(minimal.text).toBe("");
    expect(minimal.headers.get("preference-applied")).toBe("return=minimal");
  });

  it("honours If-Match: 412 resourceModified for a stale ETag, 200 for the current one, 400 for a malformed one", async () => {
    const created = await create();
    const etag = created.headers.get("etag")!;
    const ok = await app.request("PATCH", one(created.json.id), {
      token: appToken,
      body: { attemptsCount: 1 },
      headers: { "if-match": etag },
    });
    expect(ok.status).toBe(200);
    const stale = await app.request("PATCH", one(created.json.id), {
      token: appToken,
      body: { attemptsCount: 2 },
      headers: { "if-match": etag },
    });
    expect(expectGraphError(stale, 412, "resourceModified").message).toBe(
      "The operation has changed since the ETag given in If-Match.",
    );
    const malformed = await app.request("PATCH", one(created.json.id), {
      token: appToken,
      body: { attemptsCount: 2 },
      headers: { "if-match": "not-a-tag" },
    });
    expect(detailTargets(expectGraphError(malformed, 400, "invalidRequest"))).toEqual(["If-Match"]);
  });

  it("is a 409 notAllowed naming the property for a change the rules refuse, and a 404 for a missing operation", async () => {
    const done = await create({ status: "succeeded" });
    const finished = await app.request("PATCH", one(done.json.id), { token: appToken, body: { status: "failed" } });
    expect(expectGraphError(finished, 409, "notAllowed").target).toBe("status");
    const running = await create({ status: "inProgress", attemptsCount: 3 });
    const backwards = await app.request("PATCH", one(running.json.id), { token: appToken, body: { attemptsCount: 1 } });
    expect(expectGraphError(backwards, 409, "notAllowed").target).toBe("attemptsCount");
    const inconsistent = await app.request("PATCH", one(running.json.id), {
      token: appToken,
      body: { status: "failed" },
    });
    expect(detailTargets(expectGraphError(inconsistent, 400, "invalidRequest"))).toEqual(["error"]);
    expectGraphError(
      await app.request("PATCH", one("missing"), { token: appToken, body: { attemptsCount: 1 } }),
      404,
      "itemNotFound",
    );
  });
});

describe("DELETE .../operations/{id}", () => {
  it("answers 204, after which the operation is a 404; honours If-Match", async () => {
    const created = await create();
    const stale = await app.request("DELETE", one(created.json.id), {
      token: appToken,
      headers: { "if-match": '"stale"' },
    });
    expectGraphError(stale, 412, "resourceModified");
    const gone = await app.request("DELETE", one(created.json.id), {
      token: appToken,
      headers: { "if-match": created.headers.get("etag")! },
    });
    expect(gone.status).toBe(204);
    expect(gone.text).toBe("");
    expectGraphError(await app.request("GET", one(created.json.id), { token: appToken }), 404, "itemNotFound");
    expectGraphError(await app.request("DELETE", one(created.json.id), { token: appToken }), 404, "itemNotFound");
  });

  it("needs write permission", async () => {
    const created = await create();
    const reader = await app.token({ app: true, roles: "TeamsAsyncOperation.Read.All" });
    expectGraphError(await app.request("DELETE", one(created.json.id), { token: reader }), 403, "accessDenied");
  });
});

describe("what the API answers when the store fails", () => {
  const cases: Array<[string, () => AppError, number, string, string, string | null]> = [
    [
      "throttled",
      () => new ThrottledError("The store is busy; retry after the time given.", 7),
      429,
      "activityLimitReached",
      "The store is busy; retry after the time given.",
      "7",
    ],
    [
      "unavailable",
      () => new UnavailableError("The store is not available; retry later.", 5),
      503,
      "serviceNotAvailable",
      "The store is not available; retry later.",
      "5",
    ],
    [
      "not set up",
      storeNotSetUp,
      503,
      "serviceNotAvailable",
      "The store is not set up: its database or container does not exist. Retry later.",
      "30",
    ],
    [
      "rejecting the request",
      () => new StoreRejectedError(),
      500,
      "generalException",
      "The store rejected the request.",
      null,
    ],
  ];

  it.each(cases)(
    "answers a store %s on every route with its status, code, message and Retry-After",
    async (_, fault, status, code, message, retryAfter) => {
      const created = await create({ status: "inProgress" });
      const id = created.json.id as string;
      for (const method of ["create", "read", "readEntry", "replace", "bury", "query", "count"] as const) {
        app.store.failOn(method, fault);
      }
      const answers = [
        await app.request("POST", collection(), { token: appToken, body: { operationType: "cloneTeam" } }),
        await app.request("GET", one(id), { token: appToken }),
        await app.request("GET", collection(), { token: appToken }),
        await app.request("GET", `${collection()}/$count`, { token: appToken }),
        await app.request("PATCH", one(id), { token: appToken, body: { attemptsCount: 1 } }),
        await app.request("DELETE", one(id), { token: appToken }),
      ];
      for (const res of answers) {
        expect(expectGraphError(res, status, code).message).toBe(message);
        expect(res.headers.get("retry-after")).toBe(retryAfter);
      }
      app.store.clearFaults();
      expect((await app.request("GET", one(id), { token: appToken })).status).toBe(200);
    },
  );

  it("logs a 5xx rejection as a warning with its status and code, a 4xx one as information", async () => {
    app.store.failOn("read", () => new UnavailableError("The store is not available; retry later.", 5));
    const printed = app.logs.length;
    await app.request("GET", one("any"), { token: appToken });
    app.store.clearFaults();
    await app.request("GET", one("missing"), { token: appToken });
    expect(app.logs.slice(printed)).toEqual([
      { level: "warning", message: "503 serviceNotAvailable: The store is not available; retry later." },
      { level: "information", message: "404 itemNotFound: The operation does not exist." },
    ]);
  });

  it("answers anything else the store throws (a bug) with a 500 that says nothing of it, logged as an error", async () => {
    app.store.failOn("read", () => Object.assign(new Error("conflict"), { status: 409 }));
    const printed = app.logs.length;
    const res = await app.request("GET", one("any"), { token: appToken });
    expect(expectGraphError(res, 500, "generalException").message).toBe("An unexpected error occurred.");
    expect(res.text).not.toContain("conflict");
    expect(app.logs.slice(printed).map((l) => l.level)).toEqual(["error"]);
  });

  it("answers 404 when the operation goes away between the read and the write", async () => {
    app.store.failOn("replace", () => new NotFoundError("The operation does not exist."));
    const created = await create();
    const res = await app.request("PATCH", one(created.json.id), { token: appToken, body: { attemptsCount: 1 } });
    expectGraphError(res, 404, "itemNotFound");
  });
});
