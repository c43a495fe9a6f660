/**
 * POST on every create route, over real HTTP against the local runner and
 * the embedded Cosmos DB server; what is stored is read back through
 * `@azure/cosmos`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_TENANT_ID, DEV_USER_ID } from "../../local/devIdentity.js";
import { call, detailTargets, expectGraphError, OTHER_TEAM, TEAM } from "../support/http.js";
import { startStack, type Stack } from "../support/stack.js";
import { SEED_BODY } from "../support/seed.js";

const SEVEN_DIGIT_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/;
const REPRESENTATION_KEYS = [
  "@odata.context",
  "@odata.type",
  "@odata.etag",
  "id",
  "operationType",
  "createdDateTime",
  "status",
  "lastActionDateTime",
  "attemptsCount",
  "targetResourceId",
  "targetResourceLocation",
  "error",
];

let stack: Stack;
let appToken: string;
let userToken: string;

beforeAll(async () => {
  stack = await startStack();
  appToken = await stack.token({ app: true });
  userToken = await stack.token({ groups: [TEAM] });
});
afterAll(() => stack?.stop());

const teamsUrl = (team = TEAM, suffix = "") => `${stack.baseUrl}/teams/${team}/operations${suffix}`;
const meUrl = (group = TEAM, suffix = "") => `${stack.baseUrl}/me/joinedGroups/${group}/team/operations${suffix}`;

// Graph's documented example: its job last acted in 2016, years before this operation is created.
const seedBody: Record<string, unknown> = { ...SEED_BODY };

describe("POST creates an operation on each create route", () => {
  const routes = [
    { name: "/teams/{id}/operations", url: () => teamsUrl(), token: () => appToken },
    { name: "/teams/{id}/operations/$ref", url: () => teamsUrl(TEAM, "/$ref"), token: () => appToken },
    { name: "/me/joinedGroups/{id}/team/operations", url: () => meUrl(), token: () => userToken },
    { name: "/me/joinedGroups/{id}/team/operations/$ref", url: () => meUrl(TEAM, "/$ref"), token: () => userToken },
  ];

  for (const route of routes) {
    it(`answers 201 with Graph's representation on ${route.name}`, async () => {
      const before = Date.now();
      const res = await call(route.url(), { method: "POST", token: route.token(), body: seedBody });
      expect(res.status, res.text).toBe(201);
      const body = res.json;
      expect(Object.keys(body)).toEqual(REPRESENTATION_KEYS);
      expect(body["@odata.context"]).toBe(`${stack.baseUrl}/$metadata#teams('${TEAM}')/operations/$entity`);
      expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(body.operationType).toBe("archiveTeam");
      expect(body.status).toBe("inProgress");
      expect(body.attemptsCount).toBe(13);
      expect(body.lastActionDateTime).toBe("2016-12-31T20:56:44.8542569Z");
      expect(body.error).toEqual({ code: "Code value", message: "Message value" });
      expect(body.createdDateTime).toMatch(SEVEN_DIGIT_UTC);
      const created = Date.parse(body.createdDateTime);
      expect(created).toBeGreaterThanOrEqual(before - 1000);
      expect(created).toBeLessThanOrEqual(Date.now() + 1000);

      expect(res.headers.get("location")).toBe(`${stack.baseUrl}/teams/${TEAM}/operations/${body.id}`);
      expect(res.headers.get("etag")).toMatch(/^(W\/)?".+"$/);
      expect(res.headers.get("request-id")).toMatch(/^[0-9a-f-]{36}$/);

      const { resource } = await stack.container.item(`${DEV_TENANT_ID}:${body.id}`, TEAM).read();
      expect(resource).toMatchObject({
        teamId: TEAM,
        tenantId: DEV_TENANT_ID,
        operationId: body.id,
        lastActionDateTime: "2016-12-31T20:56:44.8542569Z",
        createdDateTime: body.createdDateTime,
        revision: 1,
        changedDateTime: body.createdDateTime,
      });
      // Azure returns _etag quoted; the embedded server does not. The header is always a quoted entity tag.
      expect(res.headers.get("etag")).toBe(resource._etag.startsWith('"') ? resource._etag : `"${resource._etag}"`);
    });
  }

  it("applies defaults and records who created it", async () => {
    const res = await call(teamsUrl(), { method: "POST", token: userToken, body: { operationType: "cloneTeam" } });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({
      status: "notStarted",
      attemptsCount: 0,
      targetResourceId: null,
      targetResourceLocation: null,
      error: null,
    });
    expect(res.json.lastActionDateTime).toBe(res.json.createdDateTime);
    const { resource } = await stack.container.item(`${DEV_TENANT_ID}:${res.json.id}`, TEAM).read();
    expect(resource.createdBy).toEqual({ kind: "user", objectId: DEV_USER_ID, appId: expect.any(String) });
    expect(resource.ttl).toBeUndefined();
  });

  it("keeps a client-supplied id and refuses it a second time with 409", async () => {
    const id = `job-${Date.now()}`;
    const first = await call(teamsUrl(), {
      method: "POST",
      token: appToken,
      body: { id, operationType: "createTeam" },
    });
    expect(first.status, first.text).toBe(201);
    expect(first.json.id).toBe(id);
    const countBefore = (await stack.documents()).length;
    const second = await call(teamsUrl(), {
      method: "POST",
      token: appToken,
      body: { id, operationType: "cloneTeam" },
    });
    expectGraphError(second, 409, "nameAlreadyExists");
    expect((await stack.documents()).length).toBe(countBefore);
    const { resource } = await stack.container.item(`${DEV_TENANT_ID}:${id}`, TEAM).read();
    expect(resource.operationType).toBe("createTeam");
  });

  it("gives a finished operation a time-to-live", async () => {
    const res = await call(teamsUrl(), {
      method: "POST",
      token: appToken,
      body: { operationType: "createTeam", status: "succeeded" },
    });
    expect(res.status).toBe(201);
    const { resource } = await stack.container.item(`${DEV_TENANT_ID}:${res.json.id}`, TEAM).read();
    expect(resource.ttl).toBe(30 * 86_400);
  });

  it("answers 204 with Location and Preference-Applied for Prefer: return=minimal", async () => {
    const res = await call(teamsUrl(), {
      method: "POST",
      token: appToken,
      body: { operationType: "cloneTeam" },
      headers: { prefer: "return=minimal" },
    });
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expect(res.headers.get("preference-applied")).toBe("return=minimal");
    const location = res.headers.get("location")!;
    const id = location.split("/").pop()!;
    const { resource } = await stack.container.item(`${DEV_TENANT_ID}:${id}`, TEAM).read();
    expect(resource.operationType).toBe("cloneTeam");
  });

  it("echoes client-request-id in headers and in errors", async () => {
    const ok = await call(teamsUrl(), {
      method: "POST",
      token: appToken,
      body: { operationType: "cloneTeam" },
      headers: { "client-request-id": "abc-123" },
    });
    expect(ok.headers.get("client-request-id")).toBe("abc-123");
    const bad = await call(teamsUrl(), {
      method: "POST",
      token: appToken,
      body: {},
      headers: { "client-request-id": "abc-456" },
    });
    const error = expectGraphError(bad, 400, "invalidRequest");
    expect(bad.headers.get("client-request-id")).toBe("abc-456");
    expect(error.innerError["client-request-id"]).toBe("abc-456");
  });

  it("generates a client-request-id when the client sends none (or one that is not a token), and says OData-Version 4.0", async () => {
    for (const headers of [{}, { "client-request-id": "has space" }] as Record<string, string>[]) {
      const ok = await call(teamsUrl(), {
        method: "POST",
        token: appToken,
        body: { operationType: "cloneTeam" },
        headers,
      });
      expect(ok.headers.get("client-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(ok.headers.get("odata-version")).toBe("4.0");
      const bad = await call(teamsUrl(), { method: "POST", token: appToken, body: {}, headers });
      const error = expectGraphError(bad, 400, "invalidRequest");
      expect(error.innerError["client-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
      expect(error.innerError["client-request-id"]).not.toBe(ok.headers.get("client-request-id"));
    }
    const unauthenticated = await call(teamsUrl(), { method: "POST", body: { operationType: "cloneTeam" } });
    expectGraphError(unauthenticated, 401, "InvalidAuthenticationToken");
  });

  it("accepts evolvable enum members only with Prefer: include-unknown-enum-members", async () => {
    const refused = await call(teamsUrl(), {
      method: "POST",
      token: appToken,
      body: { operationType: "teamifyGroup" },
    });
    expect(detailTargets(expectGraphError(refused, 400, "invalidRequest"))).toEqual(["operationType"]);
    const accepted = await call(teamsUrl(), {
      method: "POST",
      token: appToken,
      body: { operationType: "teamifyGroup" },
      headers: { prefer: "include-unknown-enum-members" },
    });
    expect(accepted.status, accepted.text).toBe(201);
    expect(accepted.json.operationType).toBe("teamifyGroup");
    expect(accepted.headers.get("preference-applied")).toBe("include-unknown-enum-members");
  });
});

describe("POST refuses bad input with a Graph error and stores nothing", () => {
  const bad: Array<{
    name: string;
    status: number;
    code: string;
    targets?: string[];
    detailCodes?: string[];
    request: () => Promise<Parameters<typeof call>>;
  }> = [
    {
      name: "missing operationType",
      status: 400,
      code: "invalidRequest",
      targets: ["operationType"],
      detailCodes: ["requiredProperty"],
      request: async () => [teamsUrl(), { method: "POST", token: appToken, body: { status: "inProgress" } }],
    },
    {
      name: "unknown property",
      status: 400,
      code: "invalidRequest",
      targets: ["colour"],
      detailCodes: ["unknownProperty"],
      request: async () => [
        teamsUrl(),
        { method: "POST", token: appToken, body: { operationType: "cloneTeam", colour: "red" } },
      ],
    },
    {
      name: "read-only createdDateTime",
      status: 400,
      code: "invalidRequest",
      targets: ["createdDateTime"],
      detailCodes: ["readOnlyProperty"],
      request: async () => [
        teamsUrl(),
        {
          method: "POST",
          token: appToken,
          body: { operationType: "cloneTeam", createdDateTime: "2020-01-01T00:00:00Z" },
        },
      ],
    },
    {
      name: "unknownFutureValue as operationType",
      status: 400,
      code: "invalidRequest",
      targets: ["operationType"],
      request: async () => [
        teamsUrl(),
        { method: "POST", token: appToken, body: { operationType: "unknownFutureValue" } },
      ],
    },
    {
      name: "unknownFutureValue as status even with the preference",
      status: 400,
      code: "invalidRequest",
      targets: ["status"],
      request: async () => [
        teamsUrl(),
        {
          method: "POST",
          token: appToken,
          body: { operationType: "cloneTeam", status: "unknownFutureValue" },
          headers: { prefer: "include-unknown-enum-members" },
        },
      ],
    },
    {
      name: "attemptsCount as a string",
      status: 400,
      code: "invalidRequest",
      targets: ["attemptsCount"],
      detailCodes: ["invalidType"],
      request: async () => [
        teamsUrl(),
        { method: "POST", token: appToken, body: { operationType: "cloneTeam", attemptsCount: "3" } },
      ],
    },
    {
      name: "negative attemptsCount",
      status: 400,
      code: "invalidRequest",
      targets: ["attemptsCount"],
      request: async () => [
        teamsUrl(),
        { method: "POST", token: appToken, body: { operationType: "cloneTeam", attemptsCount: -1 } },
      ],
    },
    {
      name: "fractional attemptsCount",
      status: 400,
      code: "invalidRequest",
      targets: ["attemptsCount"],
      request: async () => [
        teamsUrl(),
        { method: "POST", token: appToken, body: { operationType: "cloneTeam", attemptsCount: 1.5 } },
      ],
    },
    {
      name: "date-time without offset",
      status: 400,
      code: "invalidRequest",
      targets: ["lastActionDateTime"],
      request: async () => [
        teamsUrl(),
        {
          method: "POST",
          token: appToken,
          body: { operationType: "cloneTeam", lastActionDateTime: "2026-01-01T10:00:00" },
        },
      ],
    },
    {
      name: "date-time with eight fractional digits",
      status: 400,
      code: "invalidRequest",
      targets: ["lastActionDateTime"],
      request: async () => [
        teamsUrl(),
        {
          method: "POST",
          token: appToken,
          body: { operationType: "cloneTeam", lastActionDateTime: "2026-01-01T10:00:00.12345678Z" },
        },
      ],
    },
    {
      name: "February 30th",
      status: 400,
      code: "invalidRequest",
      targets: ["lastActionDateTime"],
      request: async () => [
        teamsUrl(),
        {
          method: "POST",
          token: appToken,
          body: { operationType: "cloneTeam", lastActionDateTime: "2026-02-30T10:00:00Z" },
        },
      ],
    },
    {
      name: "an id with a slash",
      status: 400,
      code: "invalidRequest",
      targets: ["id"],
      request: async () => [
        teamsUrl(),
        { method: "POST", token: appToken, body: { id: "a/b", operationType: "cloneTeam" } },
      ],
    },
    {
      name: "a wrong @odata.type",
      status: 400,
      code: "invalidRequest",
      targets: ["@odata.type"],
      request: async () => [
        teamsUrl(),
        {
          method: "POST",
          token: appToken,
          body: { "@odata.type": "#microsoft.graph.user", operationType: "cloneTeam" },
        },
      ],
    },
    {
      name: "an unknown property inside error",
      status: 400,
      code: "invalidRequest",
      targets: ["error.detail"],
      request: async () => [
        teamsUrl(),
        { method: "POST", token: appToken, body: { operationType: "cloneTeam", error: { code: "x", detail: "y" } } },
      ],
    },
    {
      name: "an over-long targetResourceLocation",
      status: 400,
      code: "invalidRequest",
      targets: ["targetResourceLocation"],
      request: async () => [
        teamsUrl(),
        {
          method: "POST",
          token: appToken,
          body: { operationType: "cloneTeam", targetResourceLocation: "x".repeat(2049) },
        },
      ],
    },
    {
      name: "every offending property at once",
      status: 400,
      code: "invalidRequest",
      targets: ["foo", "operationType", "attemptsCount", "status"],
      request: async () => [
        teamsUrl(),
        { method: "POST", token: appToken, body: { foo: 1, operationType: "nope", attemptsCount: "x", status: 3 } },
      ],
    },
    {
      name: "a JSON array",
      status: 400,
      code: "invalidRequest",
      request: async () => [teamsUrl(), { method: "POST", token: appToken, body: [{ operationType: "cloneTeam" }] }],
    },
    {
      name: "malformed JSON",
      status: 400,
      code: "invalidRequest",
      request: async () => [
        teamsUrl(),
        {
          method: "POST",
          token: appToken,
          rawBody: '{"operationType":',
          headers: { "content-type": "application/json" },
        },
      ],
    },
    {
      name: "an empty body",
      status: 400,
      code: "invalidRequest",
      request: async () => [
        teamsUrl(),
        { method: "POST", token: appToken, rawBody: "", headers: { "content-type": "application/json" } },
      ],
    },
    {
      name: "a __proto__ key",
      status: 400,
      code: "invalidRequest",
      request: async () => [
        teamsUrl(),
        {
          method: "POST",
          token: appToken,
          rawBody: '{"operationType":"cloneTeam","__proto__":{"admin":true}}',
          headers: { "content-type": "application/json" },
        },
      ],
    },
    {
      name: "a constructor key inside error",
      status: 400,
      code: "invalidRequest",
      request: async () => [
        teamsUrl(),
        {
          method: "POST",
          token: appToken,
          rawBody: '{"operationType":"cloneTeam","error":{"code":"x","constructor":{}}}',
          headers: { "content-type": "application/json" },
        },
      ],
    },
    {
      name: "no Content-Type",
      status: 415,
      code: "notSupported",
      request: async () => [teamsUrl(), { method: "POST", token: appToken, rawBody: '{"operationType":"cloneTeam"}' }],
    },
    {
      name: "text/plain",
      status: 415,
      code: "notSupported",
      request: async () => [
        teamsUrl(),
        {
          method: "POST",
          token: appToken,
          rawBody: '{"operationType":"cloneTeam"}',
          headers: { "content-type": "text/plain" },
        },
      ],
    },
    {
      name: "a non-UTF-8 charset",
      status: 415,
      code: "notSupported",
      request: async () => [
        teamsUrl(),
        {
          method: "POST",
          token: appToken,
          rawBody: '{"operationType":"cloneTeam"}',
          headers: { "content-type": "application/json; charset=iso-8859-1" },
        },
      ],
    },
    {
      name: "a body over the limit",
      status: 413,
      code: "invalidRequest",
      request: async () => [
        teamsUrl(),
        { method: "POST", token: appToken, body: { operationType: "cloneTeam", targetResourceId: "x".repeat(40_000) } },
      ],
    },
    {
      name: "a teamId that is not a GUID",
      status: 400,
      code: "invalidRequest",
      request: async () => [
        teamsUrl("not-a-guid"),
        { method: "POST", token: appToken, body: { operationType: "cloneTeam" } },
      ],
    },
    {
      name: "no token",
      status: 401,
      code: "InvalidAuthenticationToken",
      request: async () => [teamsUrl(), { method: "POST", body: { operationType: "cloneTeam" } }],
    },
    {
      name: "a garbage token",
      status: 401,
      code: "InvalidAuthenticationToken",
      request: async () => [teamsUrl(), { method: "POST", token: "abc.def.ghi", body: { operationType: "cloneTeam" } }],
    },
    {
      name: "an expired token",
      status: 401,
      code: "InvalidAuthenticationToken",
      request: async () => [
        teamsUrl(),
        {
          method: "POST",
          token: await stack.token({ app: true, expiresIn: -600 }),
          body: { operationType: "cloneTeam" },
        },
      ],
    },
    {
      name: "a token for another audience",
      status: 401,
      code: "InvalidAuthenticationToken",
      request: async () => [
        teamsUrl(),
        {
          method: "POST",
          token: await stack.token({ app: true, audience: "api://someone-else" }),
          body: { operationType: "cloneTeam" },
        },
      ],
    },
    {
      name: "a read-only delegated scope",
      status: 403,
      code: "accessDenied",
      request: async () => [
        teamsUrl(),
        {
          method: "POST",
          token: await stack.token({ scopes: "TeamsAsyncOperation.Read", groups: [TEAM] }),
          body: { operationType: "cloneTeam" },
        },
      ],
    },
    {
      name: "a read-only application role",
      status: 403,
      code: "accessDenied",
      request: async () => [
        teamsUrl(),
        {
          method: "POST",
          token: await stack.token({ app: true, roles: "TeamsAsyncOperation.Read.All" }),
          body: { operationType: "cloneTeam" },
        },
      ],
    },
    {
      name: "a delegated caller outside the team",
      status: 403,
      code: "accessDenied",
      request: async () => [
        teamsUrl(OTHER_TEAM),
        { method: "POST", token: userToken, body: { operationType: "cloneTeam" } },
      ],
    },
    {
      name: "a delegated caller outside the group on /me",
      status: 403,
      code: "accessDenied",
      request: async () => [
        meUrl(OTHER_TEAM),
        { method: "POST", token: userToken, body: { operationType: "cloneTeam" } },
      ],
    },
    {
      name: "an application token on /me",
      status: 403,
      code: "accessDenied",
      request: async () => [meUrl(), { method: "POST", token: appToken, body: { operationType: "cloneTeam" } }],
    },
    {
      name: "a groupId that is not a GUID on /me",
      status: 400,
      code: "invalidRequest",
      request: async () => [
        meUrl("team-one"),
        { method: "POST", token: userToken, body: { operationType: "cloneTeam" } },
      ],
    },
  ];

  for (const testCase of bad) {
    it(`${testCase.status} for ${testCase.name}`, async () => {
      const before = await stack.documents();
      const res = await call(...(await testCase.request()));
      const error = expectGraphError(res, testCase.status, testCase.code);
      if (testCase.targets) expect(detailTargets(error).sort()).toEqual([...testCase.targets].sort());
      if (testCase.detailCodes)
        expect(error.details.map((d: { code: string }) => d.code)).toEqual(testCase.detailCodes);
      if (testCase.status === 401) expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
      expect(await stack.documents()).toEqual(before);
    });
  }
});
