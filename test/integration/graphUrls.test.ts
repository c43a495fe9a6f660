/**
 * Microsoft Graph's own URL forms and OData rules over real HTTP against the
 * local runner: the service document and $metadata, OData key syntax on every
 * route, the v1.0 navigation paths with their membership rules, `$count`,
 * `$select` on one operation, read-modify-write PATCH, Graph's evolvable-enum
 * filter table and the OData forms Graph clients send.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_USER_ID } from "../../local/devIdentity.js";
import { call, detailTargets, expectGraphError, TEAM } from "../support/http.js";
import { PROJECT_ROOT, startStack, type Stack } from "../support/stack.js";

let stack: Stack;
let app: string;
let member: string;
let outsider: string;
const PREFER_UNKNOWN = { prefer: "include-unknown-enum-members" };

beforeAll(async () => {
  stack = await startStack();
  app = await stack.token({ app: true });
  member = await stack.token({ groups: [TEAM] });
  outsider = await stack.token({ groups: [randomUUID()] });
});
afterAll(() => stack?.stop());

const url = (path: string) => `${stack.baseUrl}/${path}`;

async function create(team: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await call(url(`teams/${team}/operations`), {
    method: "POST",
    token: app,
    body: { operationType: "cloneTeam", ...body },
    headers,
  });
  expect(res.status, res.text).toBe(201);
  return res.json;
}

describe("the service document, $metadata and the OpenAPI description", () => {
  it("serves the service document at the root, anonymously", async () => {
    for (const path of ["", "/"]) {
      const res = await call(`${stack.baseUrl}${path}`);
      expect(res.status).toBe(200);
      expect(res.json["@odata.context"]).toBe(`${stack.baseUrl}/$metadata`);
      expect(res.json.value.map((v: { name: string }) => v.name)).toEqual([
        "teams",
        "groups",
        "users",
        "subscriptions",
        "me",
      ]);
      expect(res.headers.get("odata-version")).toBe("4.0");
    }
    expectGraphError(await call(`${stack.baseUrl}/`, { method: "POST" }), 405, "notSupported");
  });

  it("serves the CSDL that every @odata.context points to, anonymously", async () => {
    const created = await create(TEAM);
    const context = new URL(created["@odata.context"]);
    const res = await call(context.href.split("#")[0]!);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/xml/);
    expect(res.text).toContain('<EntityType Name="teamsAsyncOperation" BaseType="graph.entity" OpenType="true">');
    // Subscriptions' @odata.context (`$metadata#subscriptions/$entity`) names an entity set it declares.
    expect(res.text).toContain('<EntityType Name="subscription" BaseType="graph.entity">');
    expect(res.text).toContain('<EntitySet Name="subscriptions" EntityType="graph.subscription" />');
    expect(res.headers.get("request-id")).toBeTruthy();
  });

  it("serves docs/openapi.json as it is", async () => {
    const res = await call(url("openapi.json"));
    expect(res.status).toBe(200);
    expect(res.text).toBe(readFileSync(join(PROJECT_ROOT, "docs/openapi.json"), "utf8"));
  });
});

describe("OData key syntax", () => {
  const team = randomUUID();
  const forms = [
    (t: string, op?: string) => `teams('${t}')/operations${op === undefined ? "" : `('${op}')`}`,
    (t: string, op?: string) => `teams(${t})/operations${op === undefined ? "" : `(${op})`}`,
    (t: string, op?: string) => `teams/${t}/operations${op === undefined ? "" : `('${op}')`}`,
    (t: string, op?: string) => `teams('${t}')/operations${op === undefined ? "" : `/${op}`}`,
  ];

  it("answers every route as the path-segment form does: create, read, list, $count, PATCH, DELETE", async () => {
    for (const [i, form] of forms.entries()) {
      const created = await call(url(form(team)), {
        method: "POST",
        token: app,
        body: { operationType: "archiveTeam" },
      });
      expect(created.status, `${i}: ${created.text}`).toBe(201);
      const id = created.json.id;
      const read = await call(url(form(team, id)), { token: app });
      expect(read.status).toBe(200);
      expect(read.json).toEqual(created.json);
      const plain = await call(url(`teams/${team}/operations/${id}`), { token: app });
      expect(read.json).toEqual(plain.json);
      const listed = await call(url(`${form(team)}?$filter=status eq 'notStarted'`), { token: app });
      expect(listed.json.value.map((o: { id: string }) => o.id)).toContain(id);
      const count = await call(url(`${form(team)}/$count`), { token: app });
      expect(count.text).toBe(String(i + 1));
      const patched = await call(url(form(team, id)), {
        method: "PATCH",
        token: app,
        body: { status: "inProgress" },
        headers: { "if-match": created.headers.get("etag")! },
      });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.json.status).toBe("inProgress");
    }
    const all = await call(url(`teams/${team}/operations`), { token: app });
    for (const { id } of all.json.value) {
      expect((await call(url(`teams('${team}')/operations('${id}')`), { method: "DELETE", token: app })).status).toBe(
        204,
      );
    }
    expect((await call(url(`teams(${team})/operations/$count`), { token: app })).text).toBe("0");
  });

  it("gives the same errors as the path-segment form", async () => {
    const missing = await call(url(`teams('${team}')/operations('missing')`), { token: app });
    expectGraphError(missing, 404, "itemNotFound");
    const badTeam = await call(url("teams('not-a-guid')/operations"), { token: app });
    expect(expectGraphError(badTeam, 400, "invalidRequest").target).toBe("teamId");
    const quoted = await call(url(`teams('${team}')/operations('it''s')`), { token: app });
    expect(expectGraphError(quoted, 400, "invalidRequest").target).toBe("operationId");
    const put = await call(url(`teams('${team}')/operations('x')`), { method: "PUT", token: app });
    expect(put.headers.get("allow")).toBe("DELETE, GET, PATCH");
    expectGraphError(put, 405, "notSupported");
    expectGraphError(await call(url(`teams('${team}')/operations('x')`)), 401, "InvalidAuthenticationToken");
    expectGraphError(await call(url(`teams('${team}')/channels`), { token: app }), 404, "itemNotFound");
    expectGraphError(await call(url(`teams('${team}/operations`), { token: app }), 404, "itemNotFound");
  });

  it("applies to the navigation paths too", async () => {
    const created = await create(TEAM);
    const paths = [
      `me/joinedTeams('${TEAM}')/operations('${created.id}')`,
      `groups(${TEAM})/team/operations('${created.id}')`,
      `users('${DEV_USER_ID}')/joinedTeams('${TEAM}')/operations(${created.id})`,
      `me/joinedGroups('${TEAM}')/team/operations/${created.id}`,
    ];
    for (const path of paths) {
      const res = await call(url(path), { token: member });
      expect(res.status, `${path}: ${res.text}`).toBe(200);
      expect(res.json.id).toBe(created.id);
    }
  });
});

describe("Graph v1.0 navigation paths", () => {
  it("reach the same operations as /teams/{teamId}/operations", async () => {
    const created = await create(TEAM, { operationType: "createTeam" });
    for (const [path, token] of [
      [`me/joinedTeams/${TEAM}/operations`, member],
      [`groups/${TEAM}/team/operations`, member],
      [`groups/${TEAM}/team/operations`, app],
      [`users/${DEV_USER_ID}/joinedTeams/${TEAM}/operations`, member],
      [`me/joinedGroups/${TEAM}/team/operations`, member],
    ] as const) {
      const one = await call(url(`${path}/${created.id}`), { token });
      expect(one.status, `${path}: ${one.text}`).toBe(200);
      expect(one.json.id).toBe(created.id);
      const count = await call(url(`${path}/$count?$filter=operationType eq 'createTeam'`), { token });
      expect(Number(count.text)).toBeGreaterThanOrEqual(1);
    }
  });

  it("create, update and delete through /me/joinedTeams and /groups/{groupId}/team", async () => {
    const me = await call(url(`me/joinedTeams/${TEAM}/operations`), {
      method: "POST",
      token: member,
      body: { operationType: "cloneTeam" },
    });
    expect(me.status).toBe(201);
    const patched = await call(url(`groups/${TEAM}/team/operations/${me.json.id}`), {
      method: "PATCH",
      token: app,
      body: { status: "succeeded" },
    });
    expect(patched.json.status).toBe("succeeded");
    const deleted = await call(url(`users/${DEV_USER_ID}/joinedTeams/${TEAM}/operations/${me.json.id}`), {
      method: "DELETE",
      token: member,
    });
    expect(deleted.status).toBe(204);
  });

  it("follow the membership rules: members only; /me needs a user; another user's teams cannot be known", async () => {
    const list = (path: string, token: string) => call(url(path), { token });
    const refused = [
      [`me/joinedTeams/${TEAM}/operations`, outsider, /not a member of this team/],
      [`me/joinedTeams/${TEAM}/operations`, app, /\/me routes need a delegated/],
      [`groups/${TEAM}/team/operations`, outsider, /not a member of this group/],
      [`users/${DEV_USER_ID}/joinedTeams/${TEAM}/operations`, outsider, /not a member of this team/],
      [`users/${randomUUID()}/joinedTeams/${TEAM}/operations`, member, /cannot be known/],
      [`users/${DEV_USER_ID}/joinedTeams/${TEAM}/operations`, app, /cannot be known from an application token/],
    ] as const;
    for (const [path, token, message] of refused) {
      expect(expectGraphError(await list(path, token), 403, "accessDenied").message).toMatch(message);
    }
    expect((await list(`users/${DEV_USER_ID.toUpperCase()}/joinedTeams/${TEAM}/operations`, member)).status).toBe(200);
    expectGraphError(await list(`me/joinedTeams/not-a-guid/operations`, member), 400, "invalidRequest");
  });
});

describe("$count and $select", () => {
  const team = randomUUID();

  beforeAll(async () => {
    for (const status of ["inProgress", "inProgress", "succeeded"]) await create(team, { status });
  });

  it("counts what the same $filter lists, as text/plain", async () => {
    for (const filter of ["", "?$filter=status eq 'inProgress'", "?$filter=status ne 'inProgress'"]) {
      const count = await call(url(`teams/${team}/operations/$count${filter}`), { token: app });
      expect(count.status).toBe(200);
      expect(count.headers.get("content-type")).toMatch(/^text\/plain/);
      const listed = await call(url(`teams/${team}/operations${filter}${filter ? "&" : "?"}$count=true`), {
        token: app,
      });
      expect(count.text).toBe(String(listed.json["@odata.count"]));
    }
    expect(
      (await call(url(`teams/${team}/operations/$count?$FILTER=status eq 'succeeded'`), { token: app })).text,
    ).toBe("1");
  });

  it("refuses options $count does not take", async () => {
    const top = await call(url(`teams/${team}/operations/$count?$top=1`), { token: app });
    expect(expectGraphError(top, 400, "invalidRequest").target).toBe("$top");
    const search = await call(url(`teams/${team}/operations/$count?$search=x`), { token: app });
    expect(expectGraphError(search, 400, "notSupported").target).toBe("$search");
    expectGraphError(
      await call(url(`teams/${team}/operations/$count`), { method: "POST", token: app }),
      405,
      "notSupported",
    );
  });

  it("honours $select on one operation and refuses any other option, naming it", async () => {
    const created = await create(team);
    const selected = await call(url(`teams/${team}/operations/${created.id}?$select=status,id`), { token: app });
    expect(selected.status).toBe(200);
    expect(Object.keys(selected.json)).toEqual(["@odata.context", "@odata.type", "@odata.etag", "id", "status"]);
    expect(selected.json["@odata.context"]).toBe(
      `${stack.baseUrl}/$metadata#teams('${team}')/operations(id,status)/$entity`,
    );
    const upper = await call(url(`teams/${team}/operations/${created.id}?$SELECT=id`), { token: app });
    expect(Object.keys(upper.json)).toContain("id");
    expect(Object.keys(upper.json)).not.toContain("status");
    for (const [query, target, code] of [
      ["$expand=members", "$expand", "notSupported"],
      ["$filter=status eq 'failed'", "$filter", "invalidRequest"],
      ["$top=1", "$top", "invalidRequest"],
      ["$select=colour", "$select", "invalidRequest"],
      ["$bogus=1", "$bogus", "invalidRequest"],
    ]) {
      const res = await call(url(`teams/${team}/operations/${created.id}?${query}`), { token: app });
      expect(expectGraphError(res, 400, code!).target).toBe(target);
    }
    expect((await call(url(`teams/${team}/operations/${created.id}?api-version=1`), { token: app })).status).toBe(200);
  });
});

describe("read-modify-write PATCH", () => {
  it("takes back what a GET gave, annotations and read-only values included, with a change", async () => {
    const team = randomUUID();
    const created = await create(team, { status: "inProgress", targetResourceId: "t" });
    const read = await call(url(`teams/${team}/operations/${created.id}`), { token: app });
    const body = { ...read.json, status: "succeeded", error: {} };
    const patched = await call(url(`teams/${team}/operations/${created.id}`), {
      method: "PATCH",
      token: app,
      body,
      headers: { "if-match": read.json["@odata.etag"] },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json.status).toBe("succeeded");
    expect(patched.json.error).toBeNull();
    // Sending the finished operation back unchanged is a no-op, not a 409; a Date's milliseconds included.
    const again = await call(url(`teams/${team}/operations/${created.id}`), {
      method: "PATCH",
      token: app,
      body: {
        ...patched.json,
        createdDateTime: new Date(patched.json.createdDateTime).toISOString(),
        lastActionDateTime: new Date(patched.json.lastActionDateTime).toISOString(),
      },
    });
    expect(again.status, again.text).toBe(200);
    expect(again.headers.get("etag")).toBe(patched.headers.get("etag"));
  });

  it("refuses a read-only property with another value, naming it", async () => {
    const team = randomUUID();
    const created = await create(team);
    for (const [property, value] of [
      ["id", "other"],
      ["operationType", "archiveTeam"],
      ["createdDateTime", "2020-01-01T00:00:00Z"],
      ["createdDateTime", 5],
    ] as const) {
      const res = await call(url(`teams/${team}/operations/${created.id}`), {
        method: "PATCH",
        token: app,
        body: { ...created, [property]: value, status: "inProgress" },
      });
      expect(detailTargets(expectGraphError(res, 400, "invalidRequest"))).toEqual([property]);
    }
    const res = await call(url(`teams/${team}/operations/${created.id}`), { token: app });
    expect(res.json.status).toBe("notStarted");
  });
});

describe("evolvable enums, to the letter of Graph's pattern", () => {
  const team = randomUUID();
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    for (const operationType of ["cloneTeam", "createTeam", "teamifyGroup", "createChannel"]) {
      ids[operationType] = (await create(team, { operationType }, PREFER_UNKNOWN)).id;
    }
  });

  async function types(filter: string, prefer = false): Promise<string[]> {
    const res = await call(url(`teams/${team}/operations?$filter=${encodeURIComponent(filter)}`), {
      token: app,
      headers: prefer ? PREFER_UNKNOWN : {},
    });
    expect(res.status, res.text).toBe(200);
    return res.json.value.map((o: { operationType: string }) => o.operationType).sort();
  }

  it("eq unknownFutureValue: the members after it, written as unknownFutureValue; with the preference, nothing", async () => {
    expect(await types("operationType eq 'unknownFutureValue'")).toEqual(["unknownFutureValue", "unknownFutureValue"]);
    expect(await types("operationType eq 'unknownFutureValue'", true)).toEqual([]);
  });

  it("gt unknownFutureValue: the members after it; lt: the known members; either way", async () => {
    expect(await types("operationType gt 'unknownFutureValue'")).toEqual(["unknownFutureValue", "unknownFutureValue"]);
    expect(await types("operationType gt 'unknownFutureValue'", true)).toEqual(["createChannel", "teamifyGroup"]);
    expect(await types("operationType lt 'unknownFutureValue'")).toEqual(["cloneTeam", "createTeam"]);
    expect(await types("operationType lt 'unknownFutureValue'", true)).toEqual(["cloneTeam", "createTeam"]);
  });

  it("a member after unknownFutureValue: a 400 without the preference, its position with it", async () => {
    for (const filter of ["operationType eq 'teamifyGroup'", "operationType gt 'teamifyGroup'"]) {
      const res = await call(url(`teams/${team}/operations?$filter=${encodeURIComponent(filter)}`), { token: app });
      expect(expectGraphError(res, 400, "invalidRequest").message).toMatch(/include-unknown-enum-members/);
    }
    expect(await types("operationType eq 'teamifyGroup'", true)).toEqual(["teamifyGroup"]);
    expect(await types("operationType gt 'teamifyGroup'", true)).toEqual(["createChannel"]);
    expect(await types("operationType lt 'teamifyGroup'", true)).toEqual(["cloneTeam", "createTeam"]);
  });

  it("members compare by their declared position", async () => {
    expect(await types("operationType gt 'cloneTeam'")).toEqual([
      "createTeam",
      "unknownFutureValue",
      "unknownFutureValue",
    ]);
    expect(await types("operationType le 'createTeam'")).toEqual(["cloneTeam", "createTeam"]);
    expect(await types("status eq 'unknownFutureValue'")).toEqual([]);
  });

  it("unknownFutureValue in a PATCH leaves the property unchanged", async () => {
    const patched = await call(url(`teams/${team}/operations/${ids.cloneTeam}`), {
      method: "PATCH",
      token: app,
      body: { status: "unknownFutureValue", attemptsCount: 1 },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json).toMatchObject({ status: "notStarted", attemptsCount: 1 });
    const post = await call(url(`teams/${team}/operations`), {
      method: "POST",
      token: app,
      body: { operationType: "cloneTeam", status: "unknownFutureValue" },
    });
    expect(detailTargets(expectGraphError(post, 400, "invalidRequest"))).toEqual(["status"]);
  });
});

describe("OData forms Graph clients send", () => {
  const team = randomUUID();

  beforeAll(async () => {
    for (const operationType of ["cloneTeam", "archiveTeam", "createTeam"]) await create(team, { operationType });
  });

  async function count(query: string): Promise<number> {
    const res = await call(url(`teams/${team}/operations?${query}&$count=true`), { token: app });
    expect(res.status, res.text).toBe(200);
    return res.json["@odata.count"];
  }

  it("takes qualified enum literals (namespace or alias), the in operator and option names in any case", async () => {
    expect(await count("$filter=operationType eq microsoft.graph.teamsAsyncOperationType'cloneTeam'")).toBe(1);
    expect(await count("$filter=operationType ne graph.teamsAsyncOperationType'cloneTeam'")).toBe(2);
    expect(await count("$filter=status eq microsoft.graph.teamsAsyncOperationStatus'notStarted'")).toBe(3);
    expect(await count("$filter=operationType in ('cloneTeam', 'createTeam')")).toBe(2);
    expect(await count("$filter=operationType in ('cloneTeam') and status in ('notStarted','failed')")).toBe(1);
    expect(await count("$Filter=operationType eq 'archiveTeam'&$TOP=1")).toBe(1);
    const wrong = await call(
      url(`teams/${team}/operations?$filter=status eq microsoft.graph.teamsAsyncOperationType'cloneTeam'`),
      { token: app },
    );
    expect(expectGraphError(wrong, 400, "invalidRequest").target).toBe("$filter");
  });

  it("refuses functions, lambda operators and options it does not have as notSupported, naming them", async () => {
    for (const [query, target, words] of [
      ["$filter=contains(operationType,'clone')", "$filter", /function 'contains' is not supported/],
      ["$filter=startswith(operationType,'c')", "$filter", /function 'startswith'/],
      ["$filter=createdDateTime lt now()", "$filter", /function 'now'/],
      ["$filter=tags/any(t: t eq 'x')", "$filter", /lambda operator 'any'/],
      ["$filter=operationType has 'x'", "$filter", /operator 'has'/],
      ["$expand=members", "$expand", /\$expand is not supported/],
      ["$skip=1", "$skip", /\$skip is not supported/],
      ["$search=clone", "$search", /\$search is not supported/],
      ["$format=json", "$format", /\$format is not supported/],
    ] as const) {
      const res = await call(url(`teams/${team}/operations?${query}`), { token: app });
      const error = expectGraphError(res, 400, "notSupported");
      expect(error.target).toBe(target);
      expect(error.message).toMatch(words);
    }
  });
});
