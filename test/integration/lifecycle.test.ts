/**
 * The whole lifecycle over real HTTP: read, list (OData options and paging),
 * update under the state rules and ETags, delete, and repeatable create.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_TENANT_ID } from "../../local/devIdentity.js";
import { call, detailTargets, expectGraphError, OTHER_TENANT, TEAM } from "../support/http.js";
import { startStack, type Stack } from "../support/stack.js";

let stack: Stack;
let app: string;
let otherTenantApp: string;

beforeAll(async () => {
  stack = await startStack();
  app = await stack.token({ app: true });
  otherTenantApp = await stack.token({ app: true, tenant: OTHER_TENANT });
});
afterAll(() => stack?.stop());

const collection = (team = TEAM) => `${stack.baseUrl}/teams/${team}/operations`;
const one = (id: string, team = TEAM) => `${collection(team)}/${id}`;

async function create(body: Record<string, unknown> = {}, team = TEAM, token = app) {
  const res = await call(collection(team), { method: "POST", token, body: { operationType: "cloneTeam", ...body } });
  expect(res.status, res.text).toBe(201);
  return res;
}

async function stored(id: string, team = TEAM) {
  return (await stack.container.item(`${DEV_TENANT_ID}:${id}`, team).read()).resource;
}

describe("GET one operation", () => {
  it("answers 200 with the representation, its ETag and Retry-After while it runs", async () => {
    const created = await create({ status: "inProgress" });
    const res = await call(one(created.json.id), { token: app });
    expect(res.status).toBe(200);
    expect(res.json).toEqual(created.json);
    expect(res.headers.get("etag")).toBe(created.headers.get("etag"));
    expect(res.headers.get("retry-after")).toBe("5");
  });

  it("carries @odata.etag equal to the ETag header on create, read, update and in every collection item", async () => {
    const team = randomUUID();
    const created = await create({}, team);
    expect(created.json["@odata.etag"]).toBe(created.headers.get("etag"));
    const read = await call(one(created.json.id, team), { token: app });
    expect(read.json["@odata.etag"]).toBe(read.headers.get("etag"));
    const patched = await call(one(created.json.id, team), { method: "PATCH", token: app, body: { attemptsCount: 1 } });
    expect(patched.json["@odata.etag"]).toBe(patched.headers.get("etag"));
    expect(patched.json["@odata.etag"]).not.toBe(created.json["@odata.etag"]);
    await create({}, team);
    const listed = await call(collection(team), { token: app });
    expect(listed.json.value).toHaveLength(2);
    for (const item of listed.json.value) {
      const own = await call(one(item.id, team), { token: app });
      expect(item["@odata.etag"]).toBe(own.headers.get("etag"));
    }
  });

  it("sends no Retry-After once the operation has ended", async () => {
    const created = await create({ status: "succeeded" });
    const res = await call(one(created.json.id), { token: app });
    expect(res.status).toBe(200);
    expect(res.headers.get("retry-after")).toBeNull();
  });

  it("answers 304 for a matching If-None-Match and 200 otherwise", async () => {
    const created = await create();
    const etag = created.headers.get("etag")!;
    const same = await call(one(created.json.id), { token: app, headers: { "if-none-match": etag } });
    expect(same.status).toBe(304);
    expect(same.text).toBe("");
    expect(same.headers.get("etag")).toBe(etag);
    const other = await call(one(created.json.id), { token: app, headers: { "if-none-match": '"stale"' } });
    expect(other.status).toBe(200);
  });

  it("reads through the /me route for a member of the group", async () => {
    const created = await create();
    const user = await stack.token({ groups: [TEAM], scopes: "TeamsAsyncOperation.Read" });
    const res = await call(`${stack.baseUrl}/me/joinedGroups/${TEAM}/team/operations/${created.json.id}`, {
      token: user,
    });
    expect(res.status).toBe(200);
    expect(res.json.id).toBe(created.json.id);
  });

  it("is a 404 for a missing operation, another team's and another tenant's", async () => {
    const created = await create();
    expectGraphError(await call(one("does-not-exist"), { token: app }), 404, "itemNotFound");
    expectGraphError(await call(one(created.json.id, randomUUID()), { token: app }), 404, "itemNotFound");
    expectGraphError(await call(one(created.json.id), { token: otherTenantApp }), 404, "itemNotFound");
  });

  it("is a 400 for an operation id that cannot exist", async () => {
    const error = expectGraphError(await call(one("bad%20id"), { token: app }), 400, "invalidRequest");
    expect(error.target).toBe("operationId");
  });

  it("folds evolvable enum members unless the client asks for them", async () => {
    const created = await call(collection(), {
      method: "POST",
      token: app,
      body: { operationType: "createChannel" },
      headers: { prefer: "include-unknown-enum-members" },
    });
    expect(created.status).toBe(201);
    const folded = await call(one(created.json.id), { token: app });
    expect(folded.json.operationType).toBe("unknownFutureValue");
    expect(folded.headers.get("preference-applied")).toBeNull();
    const full = await call(one(created.json.id), { token: app, headers: { prefer: "include-unknown-enum-members" } });
    expect(full.json.operationType).toBe("createChannel");
    expect(full.headers.get("preference-applied")).toBe("include-unknown-enum-members");
  });
});

describe("GET the collection", () => {
  const team = randomUUID();
  const ids: string[] = [];

  // Whole seconds a minute from now: later than every creation below, and within the 5 minutes of clock skew
  // a client's lastActionDateTime may be ahead of the server's.
  const base = Math.ceil(Date.now() / 1000) * 1000 + 60_000;
  const second = (i: number) => new Date(base + i * 1000).toISOString().slice(0, 19);

  beforeAll(async () => {
    // 27 operations: every third in progress, every fourth a createTeam, a second apart.
    for (let i = 0; i < 27; i++) {
      const status = i % 3 === 0 ? "inProgress" : "notStarted";
      const operationType = i % 4 === 0 ? "createTeam" : "cloneTeam";
      const lastActionDateTime = `${second(i)}.${String(i).padStart(7, "0")}Z`;
      const res = await create(
        { id: `op-${String(i).padStart(2, "0")}`, status, operationType, lastActionDateTime },
        team,
      );
      ids.push(res.json.id);
    }
    await create({ id: "foreign" }, team, otherTenantApp);
  });

  async function allPages(url: string, token = app) {
    const seen: any[] = [];
    const links: string[] = [];
    let next: string | undefined = url;
    while (next) {
      const res = await call(next, { token });
      expect(res.status, res.text).toBe(200);
      seen.push(...res.json.value);
      next = res.json["@odata.nextLink"];
      if (next) links.push(next);
      expect(links.length).toBeLessThan(40);
    }
    return { seen, links };
  }

  it("pages through every operation with $top, no item repeated or missed", async () => {
    const { seen, links } = await allPages(`${collection(team)}?$top=4`);
    const seenIds = seen.map((o) => o.id);
    expect(new Set(seenIds).size).toBe(seenIds.length);
    expect([...seenIds].sort()).toEqual([...ids].sort());
    expect(links.length).toBeGreaterThanOrEqual(6);
    for (const link of links) {
      expect(link.startsWith(`${collection(team)}?`)).toBe(true);
      expect(new URL(link).searchParams.get("$top")).toBe("4");
    }
  });

  it("uses a default page size of 20 and answers the OData collection shape", async () => {
    const res = await call(collection(team), { token: app });
    expect(res.json["@odata.context"]).toBe(`${stack.baseUrl}/$metadata#teams('${team}')/operations`);
    expect(res.json.value).toHaveLength(20);
    expect(res.json["@odata.nextLink"]).toContain("$skiptoken=");
    expect(res.json["@odata.count"]).toBeUndefined();
  });

  it("counts with $count=true, and shows only the caller's tenant", async () => {
    const res = await call(`${collection(team)}?$count=true&$top=1`, { token: app });
    expect(res.json["@odata.count"]).toBe(27);
    const other = await call(`${collection(team)}?$count=true`, { token: otherTenantApp });
    expect(other.json["@odata.count"]).toBe(1);
    expect(other.json.value.map((o: { id: string }) => o.id)).toEqual(["foreign"]);
  });

  it("filters with eq, ne, and, or, not and parentheses, keeping the filter across pages", async () => {
    const filter = "(status eq 'inProgress' or operationType eq 'createTeam') and not (status ne 'inProgress')";
    const { seen, links } = await allPages(`${collection(team)}?$top=2&$filter=${encodeURIComponent(filter)}`);
    expect(seen.map((o) => o.id).sort()).toEqual(ids.filter((_, i) => i % 3 === 0).sort());
    for (const link of links) expect(new URL(link).searchParams.get("$filter")).toBe(filter);
  });

  it("filters and orders on date-times", async () => {
    const filter = `lastActionDateTime ge ${second(9)}Z and lastActionDateTime lt ${second(12)}+00:00`;
    const res = await call(
      `${collection(team)}?$filter=${encodeURIComponent(filter)}&$orderby=${encodeURIComponent("lastActionDateTime desc")}`,
      { token: app },
    );
    expect(res.status, res.text).toBe(200);
    expect(res.json.value.map((o: { id: string }) => o.id)).toEqual(["op-11", "op-10", "op-09"]);
  });

  it("orders by createdDateTime across pages", async () => {
    const { seen } = await allPages(`${collection(team)}?$top=5&$orderby=createdDateTime%20desc`);
    const created = seen.map((o) => o.createdDateTime);
    expect(created).toEqual([...created].sort().reverse());
    expect(seen).toHaveLength(27);
  });

  it("returns only the $select-ed properties", async () => {
    const res = await call(`${collection(team)}?$select=status,id&$top=2`, { token: app });
    expect(res.json["@odata.context"]).toBe(`${stack.baseUrl}/$metadata#teams('${team}')/operations(id,status)`);
    for (const item of res.json.value) expect(Object.keys(item)).toEqual(["@odata.etag", "id", "status"]);
  });

  it.each([
    ["$expand=members", "$expand", "notSupported"],
    ["$top=0", "$top"],
    ["$top=101", "$top"],
    ["$top=ten", "$top"],
    ["$count=yes", "$count"],
    ["$search=archive", "$search", "notSupported"],
    ["$skip=2", "$skip", "notSupported"],
    ["$filter=colour eq 'red'", "$filter"],
    ["$filter=status has 'x'", "$filter", "notSupported"],
    ["$filter=contains(status,'in')", "$filter", "notSupported"],
    ["$filter=status eq 'done'", "$filter"],
    ["$filter=status eq 'teamifyGroup'", "$filter"],
    ["$filter=operationType eq 'teamifyGroup'", "$filter"],
    ["$filter=createdDateTime ge '2026-01-01T00:00:00Z'", "$filter"],
    ["$filter=createdDateTime ge 2026-13-01T00:00:00Z", "$filter"],
    ["$filter=(status eq 'failed'", "$filter"],
    ["$filter=status eq 'failed' and", "$filter"],
    ["$filter=status eq 'failed' status eq 'failed'", "$filter"],
    ["$filter=status eq 'unterminated", "$filter"],
    ["$filter=", "$filter"],
    [`$filter=${"not ".repeat(12)}status eq 'failed'`, "$filter"],
    [`$filter=${Array(20).fill("status eq 'failed'").join(" or ")}`, "$filter"],
    [`$filter=${"(".repeat(300)}`, "$filter"],
    ["$orderby=status", "$orderby"],
    ["$orderby=createdDateTime sideways", "$orderby"],
    ["$orderby=createdDateTime,createdDateTime desc", "$orderby"],
    ["$orderby=createdDateTime,lastActionDateTime,createdDateTime", "$orderby"],
    ["$orderby=lastActionDateTime,status", "$orderby"],
    ["$select=id,password", "$select"],
    ["$top=1&$top=2", "$top"],
    ["$top=1&$TOP=2", "$top"],
    ["$skiptoken=not-a-token", "$skiptoken"],
  ])("refuses %s with a 400 naming %s", async (query, option, code = "invalidRequest") => {
    const url = `${collection(team)}?${query.replace(/ /g, "%20").replace(/'/g, "%27")}`;
    const error = expectGraphError(await call(url, { token: app }), 400, code);
    expect(error.target).toBe(option);
    expect(error.message).toContain(option);
  });

  it("refuses a $skiptoken issued for another query, team or tenant", async () => {
    const first = await call(`${collection(team)}?$top=2`, { token: app });
    const token = new URL(first.json["@odata.nextLink"]).searchParams.get("$skiptoken")!;
    const skip = `$skiptoken=${encodeURIComponent(token)}`;
    const cases = [
      call(`${collection(team)}?$top=2&$filter=status%20eq%20'failed'&${skip}`, { token: app }),
      call(`${collection(randomUUID())}?${skip}`, { token: app }),
      call(`${collection(team)}?${skip}`, { token: otherTenantApp }),
    ];
    for (const res of await Promise.all(cases))
      expect(expectGraphError(res, 400, "invalidRequest").target).toBe("$skiptoken");
  });

  it("refuses evolvable members in $filter unless asked for", async () => {
    const url = `${collection(team)}?$filter=${encodeURIComponent("operationType eq 'teamifyGroup'")}`;
    expectGraphError(await call(url, { token: app }), 400, "invalidRequest");
    const res = await call(url, { token: app, headers: { prefer: "include-unknown-enum-members" } });
    expect(res.status).toBe(200);
    expect(res.json.value).toEqual([]);
  });
});

describe("PATCH", () => {
  it("moves an operation forward and returns it with a new ETag", async () => {
    const created = await create();
    const res = await call(one(created.json.id), {
      method: "PATCH",
      token: app,
      body: { status: "inProgress", attemptsCount: 1, targetResourceId: "team-2" },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ status: "inProgress", attemptsCount: 1, targetResourceId: "team-2" });
    expect(res.headers.get("etag")).not.toBe(created.headers.get("etag"));
    expect(res.json.lastActionDateTime > created.json.lastActionDateTime).toBe(true);
    expect(await stored(created.json.id)).toMatchObject({ status: "inProgress", attemptsCount: 1 });
  });

  it("keeps a client's lastActionDateTime as given, before createdDateTime or ahead of the server's clock", async () => {
    const created = await create();
    // A minute from now, written with an offset and seven fractional digits.
    const utc = new Date(Math.ceil(Date.now() / 1000) * 1000 + 60_000);
    const local = new Date(utc.getTime() + 3_600_000).toISOString().slice(0, 19);
    const ok = await call(one(created.json.id), {
      method: "PATCH",
      token: app,
      body: { lastActionDateTime: `${local}.1234567+01:00` },
    });
    expect(ok.json.lastActionDateTime).toBe(`${utc.toISOString().slice(0, 19)}.1234567Z`);
    for (const [sent, kept] of [
      ["2000-01-01T00:00:00-05:00", "2000-01-01T05:00:00.0000000Z"],
      ["2099-01-01T00:00:00Z", "2099-01-01T00:00:00.0000000Z"],
    ]) {
      const res = await call(one(created.json.id), { method: "PATCH", token: app, body: { lastActionDateTime: sent } });
      expect(res.status, res.text).toBe(200);
      expect(res.json.lastActionDateTime).toBe(kept);
      expect((await stored(created.json.id)).lastActionDateTime).toBe(kept);
    }
  });

  it("finishes an operation: a time-to-live set, and only what the PATCH names changed", async () => {
    const attempt = { code: "attempt1", message: "retrying" };
    const created = await create({ status: "inProgress", error: attempt });
    const res = await call(one(created.json.id), { method: "PATCH", token: app, body: { status: "succeeded" } });
    expect(res.status).toBe(200);
    expect(res.json.error).toEqual(attempt);
    expect((await stored(created.json.id)).ttl).toBe(30 * 86_400);
    const cleared = await create({ status: "inProgress", error: attempt });
    const done = await call(one(cleared.json.id), {
      method: "PATCH",
      token: app,
      body: { status: "succeeded", error: null },
    });
    expect(done.json).toMatchObject({ status: "succeeded", error: null });
  });

  it("needs an error that says something to fail; a code or a message is enough", async () => {
    const created = await create({ status: "inProgress" });
    const before = await stored(created.json.id);
    for (const body of [
      { status: "failed" },
      { status: "failed", error: {} },
      { status: "failed", error: { code: "" } },
    ]) {
      const refused = await call(one(created.json.id), { method: "PATCH", token: app, body });
      expect(detailTargets(expectGraphError(refused, 400, "invalidRequest"))).toEqual(["error"]);
    }
    expect(await stored(created.json.id)).toEqual(before);
    const failed = await call(one(created.json.id), {
      method: "PATCH",
      token: app,
      body: { status: "failed", error: { message: "The source team is gone." } },
    });
    expect(failed.status, failed.text).toBe(200);
    expect(failed.json.error).toEqual({ code: null, message: "The source team is gone." });
  });

  it("refuses to change a finished operation (409) but accepts a repeat of its state", async () => {
    const created = await create({ status: "succeeded" });
    const before = await stored(created.json.id);
    for (const body of [{ status: "inProgress" }, { attemptsCount: 5 }, { targetResourceId: "x" }]) {
      const res = await call(one(created.json.id), { method: "PATCH", token: app, body });
      expectGraphError(res, 409, "notAllowed");
    }
    const same = await call(one(created.json.id), { method: "PATCH", token: app, body: { status: "succeeded" } });
    expect(same.status).toBe(200);
    expect(same.headers.get("etag")).toBe(created.headers.get("etag"));
    expect(await stored(created.json.id)).toEqual(before);
  });

  it("refuses backwards moves: to notStarted, and a lower attemptsCount", async () => {
    const created = await create({ status: "inProgress", attemptsCount: 2 });
    expectGraphError(
      await call(one(created.json.id), { method: "PATCH", token: app, body: { status: "notStarted" } }),
      409,
      "notAllowed",
    );
    expectGraphError(
      await call(one(created.json.id), { method: "PATCH", token: app, body: { attemptsCount: 1 } }),
      409,
      "notAllowed",
    );
  });

  it("refuses read-only properties with other values than the stored ones, and unknown properties, naming each", async () => {
    const created = await create();
    const readOnly = await call(one(created.json.id), {
      method: "PATCH",
      token: app,
      body: { id: "x", operationType: "archiveTeam", createdDateTime: "2020-01-01T00:00:00Z", status: "inProgress" },
    });
    const error = expectGraphError(readOnly, 400, "invalidRequest");
    expect(error.details.map((d: { code: string; target: string }) => `${d.code}:${d.target}`).sort()).toEqual([
      "readOnlyProperty:createdDateTime",
      "readOnlyProperty:id",
      "readOnlyProperty:operationType",
    ]);
    const unknown = await call(one(created.json.id), { method: "PATCH", token: app, body: { colour: "red" } });
    expect(detailTargets(expectGraphError(unknown, 400, "invalidRequest"))).toEqual(["colour"]);
    expect((await stored(created.json.id)).status).toBe("notStarted");
  });

  it("honours If-Match: a match or * applies, a stale tag is 412, a malformed one 400", async () => {
    const created = await create();
    const etag = created.headers.get("etag")!;
    const stale = await call(one(created.json.id), {
      method: "PATCH",
      token: app,
      body: { status: "inProgress" },
      headers: { "if-match": '"stale"' },
    });
    expectGraphError(stale, 412, "resourceModified");
    const malformed = await call(one(created.json.id), {
      method: "PATCH",
      token: app,
      body: { status: "inProgress" },
      headers: { "if-match": "no-quotes" },
    });
    expectGraphError(malformed, 400, "invalidRequest");
    const ok = await call(one(created.json.id), {
      method: "PATCH",
      token: app,
      body: { status: "inProgress" },
      headers: { "if-match": etag },
    });
    expect(ok.status).toBe(200);
    const star = await call(one(created.json.id), {
      method: "PATCH",
      token: app,
      body: { attemptsCount: 3 },
      headers: { "if-match": "*" },
    });
    expect(star.status).toBe(200);
  });

  it("answers 204 with the ETag for Prefer: return=minimal", async () => {
    const created = await create();
    const res = await call(one(created.json.id), {
      method: "PATCH",
      token: app,
      body: { status: "inProgress" },
      headers: { prefer: "return=minimal" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("etag")).toMatch(/^".+"$/);
    expect(res.headers.get("preference-applied")).toBe("return=minimal");
  });

  it("lets exactly one of many concurrent PATCHes with the same If-Match win", async () => {
    const created = await create();
    const etag = created.headers.get("etag")!;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call(one(created.json.id), {
          method: "PATCH",
          token: app,
          body: { status: "inProgress", attemptsCount: i + 1 },
          headers: { "if-match": etag },
        }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(7);
    const winner = results.find((r) => r.status === 200)!;
    expect((await stored(created.json.id)).attemptsCount).toBe(winner.json.attemptsCount);
  });

  it("loses no update when concurrent PATCHes come without If-Match", async () => {
    const created = await create({ status: "inProgress" });
    const changes = [
      { targetResourceId: "team-9" },
      { targetResourceLocation: "https://graph.microsoft.com/v1.0/teams/team-9" },
      { attemptsCount: 4 },
      { error: { code: "transient", message: "retrying" } },
    ];
    const results = await Promise.all(
      changes.map((body) => call(one(created.json.id), { method: "PATCH", token: app, body })),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(await stored(created.json.id)).toMatchObject({
      targetResourceId: "team-9",
      targetResourceLocation: "https://graph.microsoft.com/v1.0/teams/team-9",
      attemptsCount: 4,
      error: { code: "transient", message: "retrying" },
    });
  });

  it("is a 404 for a missing operation or another tenant's", async () => {
    const created = await create();
    expectGraphError(await call(one("missing"), { method: "PATCH", token: app, body: {} }), 404, "itemNotFound");
    const foreign = await call(one(created.json.id), {
      method: "PATCH",
      token: otherTenantApp,
      body: { status: "inProgress" },
    });
    expectGraphError(foreign, 404, "itemNotFound");
    expect((await stored(created.json.id)).status).toBe("notStarted");
  });
});

describe("DELETE", () => {
  it("answers 204, then the operation is gone (404)", async () => {
    const created = await create();
    const res = await call(one(created.json.id), { method: "DELETE", token: app });
    expect(res.status).toBe(204);
    // No operation is left: its tombstone, which the change feed carries to notifications, expires in a day.
    expect(await stored(created.json.id)).toMatchObject({ tombstone: true, ttl: 86_400 });
    expect(await stored(created.json.id)).not.toHaveProperty("status");
    expect(await stored(created.json.id)).not.toHaveProperty("repeatability");
    expectGraphError(await call(one(created.json.id), { token: app }), 404, "itemNotFound");
    expectGraphError(await call(one(created.json.id), { method: "DELETE", token: app }), 404, "itemNotFound");
  });

  it("honours If-Match", async () => {
    const created = await create();
    const stale = await call(one(created.json.id), { method: "DELETE", token: app, headers: { "if-match": '"old"' } });
    expectGraphError(stale, 412, "resourceModified");
    expect(await stored(created.json.id)).toBeDefined();
    const ok = await call(one(created.json.id), {
      method: "DELETE",
      token: app,
      headers: { "if-match": created.headers.get("etag")! },
    });
    expect(ok.status).toBe(204);
  });

  it("frees the id: a create with it after a delete stores a new operation, with or without repeatability", async () => {
    const created = await create();
    const id = created.json.id as string;
    expect((await call(one(id), { method: "DELETE", token: app })).status).toBe(204);
    const again = await create({ id, operationType: "archiveTeam" });
    expect(again.json).toMatchObject({ id, operationType: "archiveTeam", status: "notStarted" });
    expect((await call(one(id), { method: "DELETE", token: app })).status).toBe(204);
    const repeatable = await call(collection(), {
      method: "POST",
      token: app,
      headers: { "repeatability-request-id": randomUUID(), "repeatability-first-sent": new Date().toUTCString() },
      body: { id, operationType: "createTeam" },
    });
    expect(repeatable.status, repeatable.text).toBe(201);
    expect((await call(one(id), { token: app })).json.operationType).toBe("createTeam");
  });

  it("cannot delete another tenant's operation, and needs write permission", async () => {
    const created = await create();
    expectGraphError(
      await call(one(created.json.id), { method: "DELETE", token: otherTenantApp }),
      404,
      "itemNotFound",
    );
    const reader = await stack.token({ app: true, roles: "TeamsAsyncOperation.Read.All" });
    expectGraphError(await call(one(created.json.id), { method: "DELETE", token: reader }), 403, "accessDenied");
    expect(await stored(created.json.id)).toBeDefined();
  });
});

describe("repeatable create (Repeatability-Request-ID)", () => {
  const post = (requestId: string, body: Record<string, unknown>, extra: Record<string, string> = {}) =>
    call(collection(), {
      method: "POST",
      token: app,
      body,
      headers: {
        "repeatability-request-id": requestId,
        "repeatability-first-sent": new Date().toUTCString(),
        ...extra,
      },
    });

  it("returns the same operation for a retry and stores one document", async () => {
    const requestId = randomUUID();
    const first = await post(requestId, { operationType: "archiveTeam" });
    const second = await post(requestId, { operationType: "archiveTeam" });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.json).toEqual(first.json);
    expect(second.headers.get("repeatability-result")).toBe("accepted");
    const docs = (await stack.documents()).filter((d: any) => d.repeatability?.requestId === requestId);
    expect(docs).toHaveLength(1);
  });

  it("stores one document when the retries arrive concurrently", async () => {
    const requestId = randomUUID();
    const results = await Promise.all(Array.from({ length: 8 }, () => post(requestId, { operationType: "cloneTeam" })));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect(new Set(results.map((r) => r.json.id)).size).toBe(1);
    const docs = (await stack.documents()).filter((d: any) => d.repeatability?.requestId === requestId);
    expect(docs).toHaveLength(1);
  });

  it("refuses the same id with a different body (409), and with a client id too", async () => {
    const requestId = randomUUID();
    expect((await post(requestId, { operationType: "cloneTeam", id: `rep-${requestId}` })).status).toBe(201);
    const different = await post(requestId, { operationType: "archiveTeam", id: `rep-${requestId}` });
    expect(expectGraphError(different, 409, "notAllowed").target).toBe("Repeatability-Request-ID");
  });

  it("does not create again an operation that was deleted: a repeat is a 409, a new request may take the id", async () => {
    const requestId = randomUUID();
    const first = await post(requestId, { operationType: "archiveTeam", status: "inProgress" });
    expect(first.status).toBe(201);
    const id = first.json.id as string;
    expect((await call(one(id), { method: "PATCH", token: app, body: { status: "succeeded" } })).status).toBe(200);
    expect((await call(one(id), { method: "DELETE", token: app })).status).toBe(204);

    const again = await post(requestId, { operationType: "archiveTeam", status: "inProgress" });
    const error = expectGraphError(again, 409, "notAllowed");
    expect(error.target).toBe("Repeatability-Request-ID");
    expect(error.message).toMatch(/has since been deleted/);
    // Gone for every route: read, update, delete, list and count.
    expectGraphError(await call(one(id), { token: app }), 404, "itemNotFound");
    expectGraphError(
      await call(one(id), { method: "PATCH", token: app, body: { status: "failed", error: { code: "x" } } }),
      404,
      "itemNotFound",
    );
    expectGraphError(await call(one(id), { method: "DELETE", token: app }), 404, "itemNotFound");
    const listed = await call(`${collection()}?$count=true&$top=100`, { token: app });
    expect(listed.json.value.map((o: { id: string }) => o.id)).not.toContain(id);
    expect(listed.json["@odata.count"]).toBe(listed.json.value.length);
    // What is left is a tombstone: the request's record, no operation.
    expect(await stored(id)).toMatchObject({ tombstone: true, repeatability: { requestId } });
    expect(await stored(id)).not.toHaveProperty("status");

    // A different request may create the id anew, and a repeat of that one is answered as usual.
    const other = randomUUID();
    const anew = await post(other, { id, operationType: "cloneTeam" });
    expect(anew.status, anew.text).toBe(201);
    expect(anew.json).toMatchObject({ id, operationType: "cloneTeam", status: "notStarted" });
    expect((await post(other, { id, operationType: "cloneTeam" })).json).toEqual(anew.json);
    expectGraphError(
      await post(requestId, { operationType: "archiveTeam", status: "inProgress" }),
      409,
      "nameAlreadyExists",
    );
  });

  it("forgets a deleted repeatable create once its tombstone's time to live has passed, in any store", async () => {
    const requestId = randomUUID();
    const first = await post(requestId, { operationType: "cloneTeam" });
    expect(first.status).toBe(201);
    const id = first.json.id as string;
    expect((await call(one(id), { method: "DELETE", token: app })).status).toBe(204);
    expectGraphError(await post(requestId, { operationType: "cloneTeam" }), 409, "notAllowed");
    // Cosmos DB would have removed it by now; a store that keeps documents past their TTL must not refuse for it.
    const tombstone = await stored(id);
    const dayAndMore = new Date(Date.parse(String(tombstone.deletedDateTime)) - (tombstone.ttl + 1) * 1000);
    await stack.container.items.upsert({ ...tombstone, deletedDateTime: dayAndMore.toISOString() });
    const repeat = await post(requestId, { operationType: "cloneTeam" });
    expect(repeat.status, repeat.text).toBe(201);
    expect(repeat.json.id).toBe(id);
  });

  it("lets a create without repeatability take the id of a deleted repeatable operation", async () => {
    const id = `rep-${randomUUID()}`;
    expect((await post(randomUUID(), { id, operationType: "cloneTeam" })).status).toBe(201);
    expect((await call(one(id), { method: "DELETE", token: app })).status).toBe(204);
    const plain = await create({ id });
    expect(plain.json.id).toBe(id);
  });

  it("refuses malformed repeatability headers", async () => {
    expectGraphError(await post("x".repeat(200), { operationType: "cloneTeam" }), 400, "invalidRequest");
    expectGraphError(
      await post(randomUUID(), { operationType: "cloneTeam" }, { "repeatability-first-sent": "yesterday" }),
      400,
      "invalidRequest",
    );
    // Well-formed, but no such day: not silently read as 3 March.
    expectGraphError(
      await post(
        randomUUID(),
        { operationType: "cloneTeam" },
        { "repeatability-first-sent": "Tue, 31 Feb 2026 10:00:00 GMT" },
      ),
      400,
      "invalidRequest",
    );
  });
});

describe("routes and methods that do not exist", () => {
  it("answers 405 with Allow for a known path and another method", async () => {
    const created = await create();
    const put = await call(one(created.json.id), { method: "PUT", token: app, body: { status: "inProgress" } });
    expectGraphError(put, 405, "notSupported");
    expect(put.headers.get("allow")).toBe("DELETE, GET, PATCH");
    const del = await call(collection(), { method: "DELETE", token: app });
    expectGraphError(del, 405, "notSupported");
    expect(del.headers.get("allow")).toBe("GET, POST");
  });

  it("answers a Graph 404 for an unknown path", async () => {
    expectGraphError(await call(`${stack.baseUrl}/teams/${TEAM}/channels`, { token: app }), 404, "itemNotFound");
    expectGraphError(await call(`${stack.baseUrl}/nothing/here`, { method: "POST" }), 404, "itemNotFound");
  });
});

describe("$orderby with two keys", () => {
  const team = randomUUID();
  // Six operations created in turn (createdDateTime rising), whose lastActionDateTime holds two values, three each.
  const base = Math.ceil(Date.now() / 1000) * 1000 + 60_000;
  const early = new Date(base).toISOString();
  const late = new Date(base + 1000).toISOString();
  const order: Array<{ id: string; late: boolean }> = [];

  beforeAll(async () => {
    for (let i = 0; i < 6; i++) {
      const id = `two-keys-${i}`;
      await create({ id, lastActionDateTime: i % 2 === 0 ? late : early }, team);
      order.push({ id, late: i % 2 === 0 });
    }
  });

  async function pagedIds(orderby: string): Promise<string[]> {
    const ids: string[] = [];
    let next: string | undefined = `${collection(team)}?$top=2&$orderby=${encodeURIComponent(orderby)}`;
    while (next) {
      const res = await call(next, { token: app });
      expect(res.status, res.text).toBe(200);
      ids.push(...res.json.value.map((o: { id: string }) => o.id));
      next = res.json["@odata.nextLink"];
      if (next) expect(new URL(next).searchParams.get("$orderby")).toBe(orderby);
    }
    return ids;
  }

  it("sorts by the first key, then by the second where the first ties, each in its own direction, across pages", async () => {
    const lateFirst = [...order.filter((o) => o.late), ...order.filter((o) => !o.late)].map((o) => o.id);
    expect(await pagedIds("lastActionDateTime desc,createdDateTime")).toEqual(lateFirst);
    const earlyFirstNewest = [...order.filter((o) => !o.late).reverse(), ...order.filter((o) => o.late).reverse()];
    expect(await pagedIds("lastActionDateTime asc,createdDateTime desc")).toEqual(earlyFirstNewest.map((o) => o.id));
    // createdDateTime is unique here: the second key changes nothing.
    expect(await pagedIds("createdDateTime desc,lastActionDateTime")).toEqual(order.map((o) => o.id).reverse());
  });
});
