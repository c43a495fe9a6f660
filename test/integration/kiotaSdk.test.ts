/**
 * The Kiota-based Microsoft Graph SDK as users run it, unchanged:
 * `@microsoft/msgraph-sdk` with the teams and users fluent packages and
 * `@microsoft/msgraph-sdk-core`'s page iterator, with the SDK's own default
 * middleware and nothing added, no URL rewriting of ours: only the base URL is
 * set, as for a national cloud. Tokens go over https only, so the runner sits
 * behind a loopback TLS proxy, with PUBLIC_BASE_URL naming it.
 */
import { randomUUID } from "node:crypto";
import type { GraphRequestAdapter, GraphServiceClient } from "@microsoft/msgraph-sdk";
import {
  createTeamsAsyncOperationCollectionResponseFromDiscriminatorValue,
  type TeamsAsyncOperation,
  type TeamsAsyncOperationCollectionResponse,
} from "@microsoft/msgraph-sdk/models/index.js";
import {
  createODataErrorFromDiscriminatorValue,
  type ODataError,
} from "@microsoft/msgraph-sdk/models/oDataErrors/index.js";
import { PageIterator, type PageCollection } from "@microsoft/msgraph-sdk-core";
import "@microsoft/msgraph-sdk-teams";
import "@microsoft/msgraph-sdk-users";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEAM } from "../support/http.js";
import { graphClient } from "../support/kiota.js";
import { startStack, type Stack } from "../support/stack.js";
import { startTlsProxy, type TlsProxy } from "../support/tlsProxy.js";

let stack: Stack;
let proxy: TlsProxy;
let asApp: GraphServiceClient;
let asUser: GraphServiceClient;
let appAdapter: GraphRequestAdapter;

beforeAll(async () => {
  // The proxy's certificate is self-signed: trust without verification in this test process only.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  proxy = await startTlsProxy();
  stack = await startStack({ env: { PUBLIC_BASE_URL: proxy.origin } });
  proxy.target = new URL(stack.baseUrl).origin;
  const app = graphClient(proxy.origin, await stack.token({ app: true }));
  asApp = app.client;
  appAdapter = app.adapter;
  asUser = graphClient(proxy.origin, await stack.token({ groups: [TEAM] })).client;
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
});

async function odataError(promise: Promise<unknown>): Promise<ODataError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "the call should have failed").toBeDefined();
  return error as ODataError;
}

describe("the Kiota-based Microsoft Graph SDK", () => {
  const team = randomUUID();
  const operations = () => asApp.teams.byTeamId(team).operations;

  it("creates and reads an operation, with @odata.etag on the model", async () => {
    const created = await operations().post({ operationType: "archiveTeam", status: "inProgress", attemptsCount: 1 });
    expect(created?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created?.status).toBe("inProgress");
    expect(created?.createdDateTime).toBeInstanceOf(Date);
    expect(created?.additionalData?.["@odata.etag"]).toMatch(/^".+"$/);
    const read = await operations().byTeamsAsyncOperationId(created!.id!).get();
    expect(read).toMatchObject({
      id: created!.id,
      operationType: "archiveTeam",
      status: "inProgress",
      attemptsCount: 1,
    });
    expect(read?.additionalData?.["@odata.etag"]).toBe(created?.additionalData?.["@odata.etag"]);
    const selected = await operations()
      .byTeamsAsyncOperationId(created!.id!)
      .get({ queryParameters: { select: ["id", "status"] } });
    expect(selected?.status).toBe("inProgress");
    expect(selected?.operationType).toBeUndefined();
  });

  it("reads, modifies and writes back the whole model", async () => {
    const created = await operations().post({ operationType: "cloneTeam", status: "inProgress" });
    const read = (await operations().byTeamsAsyncOperationId(created!.id!).get())!;
    read.status = "succeeded";
    // What the SDK sends: everything it read, annotations, read-only properties and an empty error included.
    const sent = JSON.parse(
      new TextDecoder().decode(operations().byTeamsAsyncOperationId(read.id!).toPatchRequestInformation(read).content),
    );
    expect(sent).toMatchObject({ id: read.id, "@odata.type": "#microsoft.graph.teamsAsyncOperation", error: {} });
    expect(Object.keys(sent)).toEqual(
      expect.arrayContaining([
        "@odata.context",
        "@odata.etag",
        "createdDateTime",
        "operationType",
        "lastActionDateTime",
      ]),
    );
    const written = await operations().byTeamsAsyncOperationId(read.id!).patch(read);
    expect(written?.status).toBe("succeeded");
    expect(written?.errorEscaped ?? null).toEqual({});
    const failed = (await operations().post({ operationType: "createTeam", status: "inProgress" }))!;
    const again = (await operations().byTeamsAsyncOperationId(failed.id!).get())!;
    again.status = "failed";
    again.errorEscaped = { code: "sourceTeamNotFound", message: "The source team was deleted." };
    const stored = await operations().byTeamsAsyncOperationId(failed.id!).patch(again);
    expect(stored?.errorEscaped).toMatchObject({ code: "sourceTeamNotFound" });
  });

  it("patches with If-Match from @odata.etag, and a stale one is resourceModified", async () => {
    const created = (await operations().post({ operationType: "unarchiveTeam" }))!;
    const etag = created.additionalData!["@odata.etag"] as string;
    const item = operations().byTeamsAsyncOperationId(created.id!);
    const patched = await item.patch({ status: "inProgress" }, { headers: { "If-Match": etag } });
    expect(patched?.additionalData?.["@odata.etag"]).not.toBe(etag);
    const stale = await odataError(item.patch({ attemptsCount: 2 }, { headers: { "If-Match": etag } }));
    expect(stale.responseStatusCode).toBe(412);
    expect(stale.errorEscaped?.code).toBe("resourceModified");
  });

  it("lists with every supported option and counts with $count", async () => {
    const listed = await operations().get({
      queryParameters: {
        filter: "status eq 'inProgress' or status eq 'notStarted'",
        orderby: ["createdDateTime desc"],
        select: ["id", "status", "createdDateTime"],
        top: 2,
        count: true,
      },
    });
    expect(listed?.odataCount).toBeGreaterThanOrEqual(2);
    expect(listed?.value).toHaveLength(2);
    const [first, second] = listed!.value!;
    expect(first!.createdDateTime!.getTime()).toBeGreaterThanOrEqual(second!.createdDateTime!.getTime());
    expect(first?.operationType).toBeUndefined();
    const count = await operations().count.get({
      queryParameters: { filter: "status eq 'inProgress' or status eq 'notStarted'" },
    });
    expect(count).toBe(listed?.odataCount);
    expect(await operations().count.get()).toBeGreaterThanOrEqual(count!);
    // Two sort keys, as the SDK sends a string array: by last action, newest first, then by creation.
    const sorted = await operations().get({
      queryParameters: { orderby: ["lastActionDateTime desc", "createdDateTime"] },
    });
    const keys = sorted!.value!.map((o) => [o.lastActionDateTime!.getTime(), o.createdDateTime!.getTime()] as const);
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < keys.length; i++) {
      const [[lastBefore, createdBefore], [last, created]] = [keys[i - 1]!, keys[i]!];
      expect(lastBefore > last || (lastBefore === last && createdBefore <= created)).toBe(true);
    }
  });

  it("pages through several pages with the page iterator", async () => {
    const paged = randomUUID();
    const ids = new Set<string>();
    for (let i = 0; i < 7; i++) {
      ids.add((await asApp.teams.byTeamId(paged).operations.post({ operationType: "cloneTeam" }))!.id!);
    }
    const first = (await asApp.teams.byTeamId(paged).operations.get({ queryParameters: { top: 3 } }))!;
    expect(first.odataNextLink).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/teams\//);
    const seen: string[] = [];
    const iterator = new PageIterator<TeamsAsyncOperation>(
      appAdapter,
      first as PageCollection<TeamsAsyncOperation> & TeamsAsyncOperationCollectionResponse,
      (item) => {
        seen.push(item.id!);
        return true;
      },
      createTeamsAsyncOperationCollectionResponseFromDiscriminatorValue,
      { XXX: createODataErrorFromDiscriminatorValue },
    );
    await iterator.iterate();
    expect(iterator.getPagingState()).toBe("Complete");
    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(ids);
  });

  it("reaches a team through me.joinedTeams and users.byUserId(...).joinedTeams as a member", async () => {
    const created = (await asApp.teams.byTeamId(TEAM).operations.post({ operationType: "createTeam" }))!;
    const mine = asUser.me.joinedTeams.byTeamId(TEAM).operations;
    const read = await mine.byTeamsAsyncOperationId(created.id!).get();
    expect(read?.id).toBe(created.id);
    const listed = await mine.get({ queryParameters: { filter: "operationType eq 'createTeam'", count: true } });
    expect(listed?.value?.map((o) => o.id)).toContain(created.id);
    expect(await mine.count.get()).toBeGreaterThanOrEqual(1);
    const posted = await mine.post({ operationType: "archiveTeam" });
    expect(posted?.operationType).toBe("archiveTeam");
    await mine.byTeamsAsyncOperationId(posted!.id!).delete();
    const refused = await odataError(asApp.me.joinedTeams.byTeamId(TEAM).operations.get());
    expect(refused.responseStatusCode).toBe(403);
    expect(refused.errorEscaped?.code).toBe("accessDenied");
  });

  it("deletes, and a missing operation is itemNotFound", async () => {
    const created = (await operations().post({ operationType: "cloneTeam" }))!;
    const item = operations().byTeamsAsyncOperationId(created.id!);
    await item.delete({ headers: { "If-Match": created.additionalData!["@odata.etag"] as string } });
    const missing = await odataError(item.get());
    expect(missing.responseStatusCode).toBe(404);
    expect(missing.errorEscaped?.code).toBe("itemNotFound");
  });

  it("surfaces each Graph error as an ODataError with the status, code and innerError", async () => {
    const created = (await operations().post({ operationType: "cloneTeam" }))!;
    // Thunks, so that each call is made (and its rejection handled) in turn.
    const checks: Array<[() => Promise<unknown>, number, string]> = [
      [
        () => operations().post({ operationType: "cloneTeam", additionalData: { colour: "red" } }),
        400,
        "invalidRequest",
      ],
      [() => operations().get({ queryParameters: { expand: ["members"] } }), 400, "notSupported"],
      [() => operations().get({ queryParameters: { skip: 1 } }), 400, "notSupported"],
      [() => operations().byTeamsAsyncOperationId("missing").get(), 404, "itemNotFound"],
      [() => asUser.teams.byTeamId(randomUUID()).operations.get(), 403, "accessDenied"],
      [() => operations().post({ operationType: "cloneTeam", id: created.id! }), 409, "nameAlreadyExists"],
    ];
    for (const [call, status, code] of checks) {
      const error = await odataError(call());
      expect(error.responseStatusCode, code).toBe(status);
      expect(error.errorEscaped?.code).toBe(code);
      expect(error.errorEscaped?.message).toBeTruthy();
      expect(error.errorEscaped?.innerError?.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(error.errorEscaped?.innerError?.clientRequestId).toBeTruthy();
      expect(error.errorEscaped?.innerError?.date).toBeInstanceOf(Date);
    }
    const unauthenticated = graphClient(proxy.origin, "not-a-token").client;
    const error = await odataError(unauthenticated.teams.byTeamId(team).operations.get());
    expect(error.responseStatusCode).toBe(401);
    expect(error.errorEscaped?.code).toBe("InvalidAuthenticationToken");
  });
});
