/**
 * Graph's JSON batching (`POST /v1.0/$batch`) over real HTTP, against the
 * local runner and the embedded store: every inner request answered exactly
 * as the same request sent alone (the caller's token, the team's membership,
 * If-Match, the body's limits, the same errors), a batch mixing teams the
 * caller may and may not touch, dependsOn with 424, the batch's own bounds,
 * and the batch builders of both Graph SDKs: `BatchRequestContent` and
 * `BatchRequestContentCollection` of the Kiota core, and
 * `BatchRequestContent` of `@microsoft/microsoft-graph-client`.
 */
import { randomUUID } from "node:crypto";
import {
  Client,
  BatchRequestContent as ClientBatchRequestContent,
  BatchResponseContent as ClientBatchResponseContent,
} from "@microsoft/microsoft-graph-client";
import { createODataErrorFromDiscriminatorValue } from "@microsoft/msgraph-sdk/models/oDataErrors/index.js";
import { BatchRequestContent, BatchRequestContentCollection } from "@microsoft/msgraph-sdk-core";
import "@microsoft/msgraph-sdk-teams";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, expectGraphError, OTHER_TEAM, OTHER_TENANT, TEAM, type ApiResponse } from "../support/http.js";
import { graphClient } from "../support/kiota.js";
import { startStack, type Stack } from "../support/stack.js";
import { startTlsProxy, type TlsProxy } from "../support/tlsProxy.js";

let stack: Stack;
let proxy: TlsProxy;
let appToken: string;
/** A delegated caller who is a member of TEAM and of no other team. */
let memberToken: string;

beforeAll(async () => {
  // The SDKs send tokens only over https: the runner sits behind a loopback TLS proxy with a self-signed certificate.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  proxy = await startTlsProxy();
  stack = await startStack({ env: { PUBLIC_BASE_URL: proxy.origin } });
  proxy.target = new URL(stack.baseUrl).origin;
  appToken = await stack.token({ app: true });
  memberToken = await stack.token({ groups: [TEAM] });
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
});

interface InnerRequest {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

interface InnerAnswer {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: any;
}

function batch(requests: InnerRequest[], token = memberToken, headers: Record<string, string> = {}) {
  return call(`${stack.baseUrl}/$batch`, { method: "POST", token, body: { requests }, headers });
}

/** A batch that is read (200): its answers by id. */
async function answered(requests: InnerRequest[], token = memberToken): Promise<Map<string, InnerAnswer>> {
  const response = await batch(requests, token);
  expect(response.status, response.text).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const answers = response.json.responses as InnerAnswer[];
  expect(answers.map((a) => a.id)).toEqual(requests.map((r) => r.id));
  return new Map(answers.map((a) => [a.id, a]));
}

async function created(team = TEAM, body: Record<string, unknown> = {}): Promise<ApiResponse> {
  const response = await call(`${stack.baseUrl}/teams/${team}/operations`, {
    method: "POST",
    token: appToken,
    body: { operationType: "cloneTeam", ...body },
  });
  expect(response.status, response.text).toBe(201);
  return response;
}

/** The headers of an answer that say something about the resource (not the ids of the request that got it). */
const RESOURCE_HEADERS = [
  "content-type",
  "odata-version",
  "etag",
  "location",
  "retry-after",
  "allow",
  "preference-applied",
  "www-authenticate",
];

function resourceHeaders(headers: Headers | Record<string, string>): Record<string, string> {
  const entries = headers instanceof Headers ? [...headers] : Object.entries(headers);
  return Object.fromEntries(
    entries
      .map(([name, value]) => [name.toLowerCase(), value] as const)
      .filter(([name]) => RESOURCE_HEADERS.includes(name)),
  );
}

/** A body without what differs between two requests by design: the request ids and the time in innerError. */
function withoutInnerError(body: any): any {
  if (!body?.error) return body;
  const { innerError, ...error } = body.error;
  expect(innerError).toEqual({
    date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/),
    "request-id": expect.any(String),
    "client-request-id": expect.any(String),
  });
  return { error };
}

describe("each inner request is answered exactly as if sent alone", () => {
  it("the same status, resource headers and body for reads, refusals of every kind and each team path", async () => {
    const running = await created(TEAM, { status: "inProgress" });
    const id = running.json.id as string;
    const etag = running.headers.get("etag")!;
    const finished = (await created(TEAM, { status: "succeeded" })).json.id as string;
    const readOnlyToken = await stack.token({ groups: [TEAM], scopes: "TeamsAsyncOperation.Read" });
    const someoneElse = randomUUID();
    const json = { "Content-Type": "application/json" };
    const requests: Array<InnerRequest & { token?: string }> = [
      { id: "read", method: "GET", url: `/teams/${TEAM}/operations/${id}` },
      { id: "keySyntax", method: "GET", url: `/teams('${TEAM}')/operations('${id}')?$select=id,status` },
      { id: "count", method: "GET", url: `/me/joinedTeams/${TEAM}/operations/$count?$filter=status eq 'inProgress'` },
      { id: "notModified", method: "GET", url: `/teams/${TEAM}/operations/${id}`, headers: { "If-None-Match": etag } },
      { id: "badFilter", method: "GET", url: `/teams/${TEAM}/operations?$filter=colour eq 'red'` },
      { id: "expand", method: "GET", url: `/teams/${TEAM}/operations?$expand=team` },
      { id: "otherTeam", method: "GET", url: `/teams/${OTHER_TEAM}/operations` },
      { id: "otherGroup", method: "GET", url: `/groups/${OTHER_TEAM}/team/operations/${id}` },
      { id: "otherUser", method: "GET", url: `/users/${someoneElse}/joinedTeams/${TEAM}/operations` },
      { id: "missing", method: "GET", url: `/teams/${TEAM}/operations/no-such-operation` },
      { id: "notAGuid", method: "GET", url: "/teams/not-a-guid/operations" },
      { id: "noPath", method: "GET", url: "/nothing/here" },
      { id: "method", method: "PUT", url: `/teams/${TEAM}/operations/${id}`, headers: json, body: {} },
      {
        id: "invalid",
        method: "POST",
        url: `/teams/${TEAM}/operations`,
        headers: json,
        body: { operationType: "cloneTeam", colour: "red", attemptsCount: "1" },
      },
      {
        id: "evolvable",
        method: "POST",
        url: `/teams/${TEAM}/operations`,
        headers: json,
        body: { operationType: "teamifyGroup" },
      },
      {
        id: "mediaType",
        method: "POST",
        url: `/teams/${TEAM}/operations`,
        headers: { "Content-Type": "text/plain" },
        body: Buffer.from('{"operationType":"cloneTeam"}').toString("base64url"),
      },
      {
        id: "tooLarge",
        method: "POST",
        url: `/teams/${TEAM}/operations`,
        headers: json,
        body: { operationType: "cloneTeam", targetResourceLocation: "x".repeat(40 * 1024) },
      },
      {
        id: "stale",
        method: "PATCH",
        url: `/teams/${TEAM}/operations/${id}`,
        headers: { ...json, "If-Match": '"not-the-etag"' },
        body: { attemptsCount: 1 },
      },
      {
        id: "finished",
        method: "PATCH",
        url: `/teams/${TEAM}/operations/${finished}`,
        headers: json,
        body: { status: "inProgress" },
      },
      { id: "deleteMissing", method: "DELETE", url: `/teams/${TEAM}/operations/no-such-operation` },
      {
        id: "readOnly",
        method: "PATCH",
        url: `/teams/${TEAM}/operations/${id}`,
        headers: json,
        body: { attemptsCount: 1 },
        token: readOnlyToken,
      },
    ];
    const before = await stack.documents();
    for (const token of [memberToken, readOnlyToken]) {
      const mine = requests.filter((r) => (r.token ?? memberToken) === token);
      const inBatch = await answered(
        mine.map(({ token: _, ...request }) => request),
        token,
      );
      for (const request of mine) {
        const alone = await call(`${stack.baseUrl}${request.url.replace(/ /g, "%20")}`, {
          method: request.method,
          token,
          headers: request.headers,
          ...(request.body === undefined
            ? {}
            : {
                rawBody:
                  typeof request.body === "string"
                    ? Buffer.from(request.body, "base64url")
                    : JSON.stringify(request.body),
              }),
        });
        const answer = inBatch.get(request.id)!;
        const what = `${request.id}: ${JSON.stringify(answer).slice(0, 400)}`;
        expect(answer.status, what).toBe(alone.status);
        expect(resourceHeaders(answer.headers), what).toEqual(resourceHeaders(alone.headers));
        const body =
          typeof answer.body === "string" || answer.body === undefined ? answer.body : withoutInnerError(answer.body);
        const text = /^text\//.test(alone.headers.get("content-type") ?? "");
        const aloneBody = text || alone.json === undefined ? alone.text || undefined : withoutInnerError(alone.json);
        expect(body, what).toEqual(aloneBody);
        // Each answer has request ids of its own.
        expect(answer.headers["request-id"]).toMatch(/^[0-9a-f-]{36}$/);
        expect(answer.headers["request-id"]).not.toBe(alone.headers.get("request-id"));
      }
    }
    // Every one of them was a read or a refusal: nothing was stored.
    expect(await stack.documents()).toEqual(before);
  });

  it("a batch mixing teams the caller may and may not touch: each request stands or falls on its own", async () => {
    const mine = (await created(TEAM)).json.id as string;
    const theirs = (await created(OTHER_TEAM)).json.id as string;
    const json = { "Content-Type": "application/json" };
    const answers = await answered([
      {
        id: "createMine",
        method: "POST",
        url: `/teams/${TEAM}/operations`,
        headers: json,
        body: { operationType: "archiveTeam" },
      },
      {
        id: "createTheirs",
        method: "POST",
        url: `/teams/${OTHER_TEAM}/operations`,
        headers: json,
        body: { operationType: "archiveTeam" },
      },
      { id: "readMine", method: "GET", url: `/me/joinedTeams/${TEAM}/operations/${mine}` },
      { id: "readTheirs", method: "GET", url: `/teams('${OTHER_TEAM}')/operations('${theirs}')` },
      {
        id: "patchMine",
        method: "PATCH",
        url: `/teams/${TEAM}/operations/${mine}`,
        headers: json,
        body: { status: "inProgress" },
      },
      {
        id: "patchTheirs",
        method: "PATCH",
        url: `/groups/${OTHER_TEAM}/team/operations/${theirs}`,
        headers: json,
        body: { status: "failed", error: { code: "x" } },
      },
      { id: "deleteTheirs", method: "DELETE", url: `/me/joinedTeams/${OTHER_TEAM}/operations/${theirs}` },
      { id: "countTheirs", method: "GET", url: `/teams/${OTHER_TEAM}/operations/$count` },
    ]);
    const statuses = Object.fromEntries([...answers].map(([id, a]) => [id, a.status]));
    expect(statuses).toEqual({
      createMine: 201,
      createTheirs: 403,
      readMine: 200,
      readTheirs: 403,
      patchMine: 200,
      patchTheirs: 403,
      deleteTheirs: 403,
      countTheirs: 403,
    });
    for (const id of ["createTheirs", "readTheirs", "patchTheirs", "deleteTheirs", "countTheirs"]) {
      expect(answers.get(id)!.body.error.code).toBe("accessDenied");
    }
    // The other team's operation is as it was, and nothing was created there.
    const documents = await stack.documents();
    const inOtherTeam = documents.filter((d) => d.teamId === OTHER_TEAM && d.tombstone !== true);
    expect(inOtherTeam.map((d) => [d.operationId, d.status])).toEqual([[theirs, "notStarted"]]);
    expect(documents.find((d) => d.operationId === mine)?.status).toBe("inProgress");
    expect(documents.some((d) => d.operationId === answers.get("createMine")!.body.id)).toBe(true);
  });

  it("a caller of another tenant learns nothing of the team's operations through a batch", async () => {
    const id = (await created(TEAM)).json.id as string;
    const stranger = await stack.token({ app: true, tenant: OTHER_TENANT });
    const answers = await answered(
      [
        { id: "read", method: "GET", url: `/teams/${TEAM}/operations/${id}` },
        { id: "list", method: "GET", url: `/teams/${TEAM}/operations` },
      ],
      stranger,
    );
    expect(answers.get("read")!.status).toBe(404);
    expect(answers.get("list")!.body.value).toEqual([]);
  });
});

describe("dependsOn", () => {
  it("runs requests in the order stated, each seeing what the one before it did", async () => {
    const id = `batch-${randomUUID()}`;
    const json = { "Content-Type": "application/json" };
    const answers = await answered([
      {
        id: "1",
        method: "POST",
        url: `/teams/${TEAM}/operations`,
        headers: json,
        body: { id, operationType: "createTeam" },
      },
      {
        id: "2",
        method: "PATCH",
        url: `/teams/${TEAM}/operations/${id}`,
        headers: json,
        body: { status: "inProgress", attemptsCount: 1 },
        dependsOn: ["1"],
      },
      {
        id: "3",
        method: "PATCH",
        url: `/teams/${TEAM}/operations/${id}`,
        headers: json,
        body: { status: "succeeded" },
        dependsOn: ["2"],
      },
      { id: "4", method: "GET", url: `/teams/${TEAM}/operations/${id}`, dependsOn: ["3"] },
    ]);
    expect([...answers.values()].map((a) => a.status)).toEqual([201, 200, 200, 200]);
    expect(answers.get("4")!.body).toMatchObject({ id, status: "succeeded", attemptsCount: 1 });
    expect(answers.get("4")!.headers.ETag).toBe(answers.get("3")!.headers.ETag);
    expect(answers.get("4")!.headers["Retry-After"]).toBeUndefined();
  });

  it("answers 424 for a request whose dependency failed, runs none of them, and runs the rest", async () => {
    const taken = (await created(TEAM)).json.id as string;
    const json = { "Content-Type": "application/json" };
    const fresh = `batch-${randomUUID()}`;
    const before = await stack.documents();
    const answers = await answered([
      {
        id: "1",
        method: "POST",
        url: `/teams/${TEAM}/operations`,
        headers: json,
        body: { id: taken, operationType: "createTeam" },
      },
      {
        id: "2",
        method: "PATCH",
        url: `/teams/${TEAM}/operations/${taken}`,
        headers: json,
        body: { status: "failed", error: { code: "x" } },
        dependsOn: ["1"],
      },
      { id: "3", method: "DELETE", url: `/teams/${TEAM}/operations/${taken}`, dependsOn: ["2"] },
      { id: "4", method: "GET", url: `/teams/${TEAM}/operations/${fresh}` },
    ]);
    expect([...answers.values()].map((a) => a.status)).toEqual([409, 424, 424, 404]);
    expect(expectInnerError(answers.get("2")!, 424)).toMatch(/'1'/);
    expect(expectInnerError(answers.get("3")!, 424)).toMatch(/'2'/);
    expect(await stack.documents()).toEqual(before);
  });
});

function expectInnerError(answer: InnerAnswer, status: number): string {
  expect(answer.status).toBe(status);
  expect(answer.headers["Content-Type"]).toBe("application/json");
  expect(answer.body.error.innerError["request-id"]).toBe(answer.headers["request-id"]);
  return answer.body.error.message as string;
}

describe("the batch itself", () => {
  const read = (id: string) => ({ id, method: "GET", url: `/teams/${TEAM}/operations` });

  it("needs a valid token, as every route does", async () => {
    const missing = await batch([read("1")], "");
    expectGraphError(missing, 401, "InvalidAuthenticationToken");
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer /);
    const expired = await batch([read("1")], await stack.token({ expiresIn: -600 }));
    expectGraphError(expired, 401, "InvalidAuthenticationToken");
  });

  it("is a 400 naming what is malformed, and runs nothing", async () => {
    const json = { "Content-Type": "application/json" };
    const create = (id: string) => ({
      id,
      method: "POST",
      url: `/teams/${TEAM}/operations`,
      headers: json,
      body: { operationType: "cloneTeam" },
    });
    const before = await stack.documents();
    const cases: Array<[InnerRequest[], string]> = [
      [Array.from({ length: 21 }, (_, i) => create(String(i))), "requests"],
      [[create("a"), create("A")], "requests.1.id"],
      [[create("a"), { ...read("b"), dependsOn: ["c"] }], "requests.1.dependsOn"],
      [
        [
          { ...create("a"), dependsOn: ["b"] },
          { ...read("b"), dependsOn: ["a"] },
        ],
        "requests",
      ],
      [[create("a"), { ...read("b"), url: "https://example.com/v1.0/teams" }], "requests.1.url"],
      [
        [create("a"), { ...read("b"), headers: { Authorization: `Bearer ${appToken}` } }],
        "requests.1.headers.Authorization",
      ],
    ];
    for (const [requests, target] of cases) {
      const error = expectGraphError(await batch(requests), 400, "invalidRequest");
      expect(error.details.map((d: { target: string }) => d.target)).toEqual([target]);
    }
    expect(await stack.documents()).toEqual(before);
    expectGraphError(
      await call(`${stack.baseUrl}/$batch`, {
        method: "POST",
        token: memberToken,
        rawBody: '{"requests":[',
        headers: json,
      }),
      400,
      "invalidRequest",
    );
  });

  it("is bounded in size: 413 past 64 KiB", async () => {
    const big = Array.from({ length: 3 }, (_, i) => ({
      id: String(i),
      method: "POST",
      url: `/teams/${TEAM}/operations`,
      headers: { "Content-Type": "application/json" },
      body: { operationType: "cloneTeam", targetResourceLocation: "x".repeat(30 * 1024) },
    }));
    expectGraphError(await batch(big), 413, "invalidRequest");
  });

  it("refuses a batch inside a batch, and answers only POST", async () => {
    const answers = await answered([
      {
        id: "nested",
        method: "POST",
        url: "/$batch",
        headers: { "Content-Type": "application/json" },
        body: { requests: [read("1")] },
      },
      read("plain"),
    ]);
    expect(answers.get("nested")!.status).toBe(400);
    expect(answers.get("nested")!.body.error.code).toBe("notSupported");
    expect(answers.get("plain")!.status).toBe(200);
    // Methods no function answers, some of which a request object cannot even hold: the host's 404, per request.
    const methods = await answered(["TRACE", "CONNECT", "PROPFIND"].map((method) => ({ ...read(method), method })));
    for (const method of ["TRACE", "CONNECT", "PROPFIND"]) {
      expect(expectInnerError(methods.get(method)!, 404)).toMatch(method);
    }
    const get = await call(`${stack.baseUrl}/$batch`, { token: memberToken });
    expectGraphError(get, 405, "notSupported");
    expect(get.headers.get("allow")).toBe("POST");
  });
});

describe("the Kiota core's batch builders", () => {
  it("BatchRequestContent: requests built from the fluent API, answered per request", async () => {
    const { client, adapter } = graphClient(proxy.origin, memberToken);
    const mine = client.teams.byTeamId(TEAM).operations;
    const one = (await created(TEAM, { status: "inProgress" })).json.id as string;
    const two = (await created(TEAM)).json.id as string;
    const theirs = (await created(OTHER_TEAM)).json.id as string;
    const content = new BatchRequestContent(adapter, { XXX: createODataErrorFromDiscriminatorValue });
    content.addBatchRequest(mine.byTeamsAsyncOperationId(one).toGetRequestInformation(), "one");
    content.addBatchRequest(
      mine.toGetRequestInformation({ queryParameters: { filter: "status eq 'inProgress'", top: 5, count: true } }),
      "list",
    );
    content.addBatchRequest(
      client.teams.byTeamId(OTHER_TEAM).operations.byTeamsAsyncOperationId(theirs).toGetRequestInformation(),
      "theirs",
    );
    content.addBatchRequest(mine.byTeamsAsyncOperationId(two).toDeleteRequestInformation(), "delete");
    const response = (await content.postAsync())!;
    expect(Object.fromEntries(await response.getResponsesStatusCodes())).toEqual({
      one: 200,
      list: 200,
      theirs: 403,
      delete: 204,
    });
    const headers = (id: string) =>
      response.getResponseById(id)!.headers as unknown as { value: Record<string, { value: string }> };
    expect(headers("one").value.ETag!.value).toMatch(/^".+"$/);
    expect(headers("one").value["Retry-After"]!.value).toBe("5");
    const documents = await stack.documents();
    expect(documents.find((d) => d.operationId === two)?.tombstone).toBe(true);
  });

  it("BatchRequestContent: a POST step arrives without its Content-Type (the SDK writes no step headers), so it is the 415 it would be alone", async () => {
    const { client, adapter } = graphClient(proxy.origin, memberToken);
    const content = new BatchRequestContent(adapter, { XXX: createODataErrorFromDiscriminatorValue });
    content.addBatchRequest(
      client.teams.byTeamId(TEAM).operations.toPostRequestInformation({ operationType: "cloneTeam" }),
      "post",
    );
    const response = (await content.postAsync())!;
    expect(Object.fromEntries(await response.getResponsesStatusCodes())).toEqual({ post: 415 });
  });

  it("BatchRequestContentCollection: polls more operations than one batch holds, in batches of 20", async () => {
    const { client, adapter } = graphClient(proxy.origin, memberToken);
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push((await created(TEAM)).json.id as string);
    const collection = new BatchRequestContentCollection(adapter, { XXX: createODataErrorFromDiscriminatorValue }, 20);
    for (const id of ids) {
      collection.addBatchRequest(
        client.teams.byTeamId(TEAM).operations.byTeamsAsyncOperationId(id).toGetRequestInformation(),
        id,
      );
    }
    const statuses = await (await collection.postAsync())!.getResponsesStatusCodes();
    expect([...statuses.keys()].sort()).toEqual([...ids].sort());
    expect(new Set(statuses.values())).toEqual(new Set([200]));
  });
});

describe("@microsoft/microsoft-graph-client's BatchRequestContent", () => {
  it("builds, posts and reads a batch with JSON bodies, dependsOn and Graph's errors", async () => {
    const client = Client.init({
      baseUrl: proxy.origin,
      defaultVersion: "v1.0",
      customHosts: new Set(["127.0.0.1"]),
      authProvider: (done) => done(null, memberToken),
    });
    const base = `${proxy.origin}/v1.0`;
    const id = `batch-${randomUUID()}`;
    const json = { "Content-Type": "application/json" };
    const content = new ClientBatchRequestContent([
      {
        id: "create",
        request: new Request(`${base}/teams/${TEAM}/operations`, {
          method: "POST",
          headers: json,
          body: JSON.stringify({ id, operationType: "cloneTeam" }),
        }),
      },
      {
        id: "update",
        dependsOn: ["create"],
        request: new Request(`${base}/teams/${TEAM}/operations/${id}`, {
          method: "PATCH",
          headers: json,
          body: JSON.stringify({ status: "inProgress" }),
        }),
      },
      { id: "count", dependsOn: ["create"], request: new Request(`${base}/teams/${TEAM}/operations/$count`) },
      { id: "other", dependsOn: ["create"], request: new Request(`${base}/teams/${OTHER_TEAM}/operations`) },
    ]);
    const response = new ClientBatchResponseContent(await client.api("/$batch").post(await content.getContent()));
    const update = response.getResponseById("update");
    expect(update.status).toBe(200);
    expect(await update.json()).toMatchObject({ id, status: "inProgress" });
    expect(update.headers.get("etag")).toMatch(/^".+"$/);
    expect(response.getResponseById("create").status).toBe(201);
    expect(Number(await response.getResponseById("count").text())).toBeGreaterThanOrEqual(1);
    const other = response.getResponseById("other");
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe("accessDenied");
  });
});
