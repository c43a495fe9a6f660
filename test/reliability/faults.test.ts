/**
 * Store faults on the real client path: the runner's `@azure/cosmos` client
 * talks to the embedded store through a fault proxy that throttles (429 with
 * x-ms-retry-after-ms), fails (503), answers late and drops connections. What
 * the caller gets is checked over HTTP; what happened is checked by reading
 * the store directly, past the proxy.
 */
import { createHash, randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEV_TENANT_ID } from "../../local/devIdentity.js";
import { startFaultProxy, throttle, unavailable, type FaultProxy, type MatchedRequest } from "../support/faultProxy.js";
import { call, expectGraphError, TEAM } from "../support/http.js";
import { startStack, type Stack } from "../support/stack.js";

let stack: Stack;
let proxy: FaultProxy;
let app: string;

beforeAll(async () => {
  stack = await startStack({
    cosmosEndpointFor: async (embedded) => {
      proxy = await startFaultProxy(embedded);
      return proxy.endpoint;
    },
  });
  app = await stack.token({ app: true });
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
});
afterEach(() => {
  proxy.clear();
  proxy.resetLog();
});

const collection = () => `${stack.baseUrl}/teams/${TEAM}/operations`;
const one = (id: string) => `${collection()}/${id}`;
const post = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  call(collection(), { method: "POST", token: app, body: { operationType: "cloneTeam", ...body }, headers });

async function stored(id: string): Promise<Record<string, unknown> | undefined> {
  return (await stack.container.item(`${DEV_TENANT_ID}:${id}`, TEAM).read<Record<string, unknown>>()).resource;
}
async function storedWith(id: string): Promise<Record<string, unknown>[]> {
  return (await stack.documents()).filter((d) => d.operationId === id);
}
const attempts = (kind: string) => proxy.log.filter((r) => r.kind === kind).length;

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

describe("transient throttling (429) is absorbed by the client's retries", () => {
  it("creates once after two 429s", async () => {
    const id = `t-${randomUUID()}`;
    proxy.inject("create", throttle(20), 2);
    const res = await post({ id });
    expect(res.status, res.text).toBe(201);
    expect(attempts("create")).toBe(3);
    expect(await storedWith(id)).toHaveLength(1);
  });

  it("reads, lists, updates and deletes through 429s", async () => {
    const id = `t-${randomUUID()}`;
    expect((await post({ id })).status).toBe(201);

    proxy.inject("read", throttle(10), 3);
    const read = await call(one(id), { token: app });
    expect(read.status, read.text).toBe(200);

    proxy.inject("query", throttle(10), 2);
    const list = await call(`${collection()}?$top=100`, { token: app });
    expect(list.status, list.text).toBe(200);
    expect(list.json.value.map((o: { id: string }) => o.id)).toContain(id);

    proxy.inject("replace", throttle(10), 2);
    const patched = await call(one(id), {
      method: "PATCH",
      token: app,
      body: { status: "inProgress", attemptsCount: 1 },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(await stored(id)).toMatchObject({ status: "inProgress", attemptsCount: 1 });

    // A delete replaces the operation with its tombstone (what the change feed carries to notifications).
    proxy.inject("replace", throttle(10), 1);
    const deleted = await call(one(id), { method: "DELETE", token: app });
    expect(deleted.status, deleted.text).toBe(204);
    expect(await stored(id)).toMatchObject({ tombstone: true });
    expect(await stored(id)).not.toHaveProperty("status");
  });
});

describe("when the retry budget runs out", () => {
  it("answers 429 with Retry-After after 1 + 3 attempts, and stores nothing", async () => {
    const id = `t-${randomUUID()}`;
    proxy.inject("create", throttle(1500), 100);
    const { value: res, ms } = await timed(() => post({ id }));
    const error = expectGraphError(res, 429, "activityLimitReached");
    expect(error.message).toBeTruthy();
    expect(res.headers.get("retry-after")).toBe("2");
    expect(attempts("create")).toBe(4);
    expect(ms).toBeLessThan(15_000);
    proxy.clear();
    expect(await storedWith(id)).toHaveLength(0);
  });

  it("does not wait out a server's long x-ms-retry-after-ms: the wait stays inside the budget", async () => {
    const id = `t-${randomUUID()}`;
    proxy.inject("create", throttle(45_000), 100);
    const { value: res, ms } = await timed(() => post({ id }));
    expectGraphError(res, 429, "activityLimitReached");
    expect(Number(res.headers.get("retry-after"))).toBe(45);
    expect(ms).toBeLessThan(12_000);
    proxy.clear();
    expect(await storedWith(id)).toHaveLength(0);
  }, 60_000);

  it("answers 503 with Retry-After when the store is unavailable, and stores nothing", async () => {
    const id = `t-${randomUUID()}`;
    proxy.inject("create", unavailable, 100);
    expect(expectGraphError(await post({ id }), 503, "serviceNotAvailable")).toBeTruthy();
    proxy.clear();
    expect(await storedWith(id)).toHaveLength(0);

    expect((await post({ id })).status).toBe(201);
    proxy.inject("read", unavailable, 100);
    const read = await call(one(id), { token: app });
    expectGraphError(read, 503, "serviceNotAvailable");
    expect(Number(read.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("answers 503 with Retry-After when the store answers after the client's 5 s timeout", async () => {
    const id = `t-${randomUUID()}`;
    expect((await post({ id })).status).toBe(201);
    proxy.inject("read", { kind: "delay", ms: 7_000 }, 100);
    const { value: res, ms } = await timed(() => call(one(id), { token: app }));
    expectGraphError(res, 503, "serviceNotAvailable");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(ms).toBeGreaterThanOrEqual(4_900);
    expect(ms).toBeLessThan(15_000);
  }, 60_000);

  it("answers 503 when the store is down for every call, and /health says so", async () => {
    proxy.inject(() => true, { kind: "drop", after: false }, 1_000);
    const health = await call(`${stack.baseUrl}/health`);
    expect(health.status).toBe(503);
    const res = await post({ id: `t-${randomUUID()}` });
    expectGraphError(res, 503, "serviceNotAvailable");
    expect(res.headers.get("retry-after")).toBeTruthy();
  }, 60_000);
});

describe("dropped connections", () => {
  it("absorbs a connection dropped before a read reached the store", async () => {
    const id = `t-${randomUUID()}`;
    expect((await post({ id })).status).toBe(201);
    proxy.inject("read", { kind: "drop", after: false }, 1);
    const res = await call(one(id), { token: app });
    expect(res.status, res.text).toBe(200);
    expect(attempts("read")).toBe(2);
  });

  it("never stores a create twice: a create applied but unanswered, then retried with its Repeatability-Request-ID", async () => {
    const requestId = randomUUID();
    const headers = { "repeatability-request-id": requestId, "repeatability-first-sent": new Date().toUTCString() };
    proxy.inject("create", { kind: "drop", after: true }, 1);
    const first = await post({ operationType: "archiveTeam" }, headers);
    expectGraphError(first, 503, "serviceNotAvailable");
    const applied = (await stack.documents()).filter(
      (d) => (d.repeatability as { requestId?: string } | undefined)?.requestId === requestId,
    );
    expect(applied).toHaveLength(1);

    const retry = await post({ operationType: "archiveTeam" }, headers);
    expect(retry.status, retry.text).toBe(201);
    expect(retry.json.id).toBe(applied[0]!.operationId);
    expect(retry.headers.get("repeatability-result")).toBe("accepted");
    expect(await storedWith(retry.json.id as string)).toHaveLength(1);
  });

  it("never stores a create twice: the same, when the store's answer comes after the client timed out", async () => {
    const requestId = randomUUID();
    const headers = { "repeatability-request-id": requestId };
    proxy.inject("create", { kind: "delay", ms: 6_000 }, 1);
    const first = await post({}, headers);
    expectGraphError(first, 503, "serviceNotAvailable");
    const retry = await post({}, headers);
    expect(retry.status, retry.text).toBe(201);
    expect(await storedWith(retry.json.id as string)).toHaveLength(1);
  }, 60_000);

  it("a client id makes a retried create a 409, never a second document", async () => {
    const id = `t-${randomUUID()}`;
    proxy.inject("create", { kind: "drop", after: true }, 1);
    expectGraphError(await post({ id }), 503, "serviceNotAvailable");
    expectGraphError(await post({ id }), 409, "nameAlreadyExists");
    expect(await storedWith(id)).toHaveLength(1);
  });

  it("never half-applies an update: a failed replace leaves the document as it was", async () => {
    const id = `t-${randomUUID()}`;
    expect((await post({ id, status: "inProgress" })).status).toBe(201);
    const before = await stored(id);
    proxy.inject("replace", unavailable, 100);
    const res = await call(one(id), {
      method: "PATCH",
      token: app,
      body: { status: "failed", attemptsCount: 2, error: { code: "boom", message: "m" } },
    });
    expectGraphError(res, 503, "serviceNotAvailable");
    expect(await stored(id)).toEqual(before);
  });

  it("never half-applies an update: a replace applied but unanswered is whole, and its retry is a no-op", async () => {
    const id = `t-${randomUUID()}`;
    expect((await post({ id, status: "inProgress" })).status).toBe(201);
    const change = { status: "failed", attemptsCount: 2, error: { code: "boom", message: "m" } };
    proxy.inject("replace", { kind: "drop", after: true }, 1);
    expectGraphError(await call(one(id), { method: "PATCH", token: app, body: change }), 503, "serviceNotAvailable");
    const afterDrop = await stored(id);
    expect(afterDrop).toMatchObject(change);
    expect(afterDrop!.ttl).toBeGreaterThan(0);

    const retry = await call(one(id), { method: "PATCH", token: app, body: change });
    expect(retry.status, retry.text).toBe(200);
    expect(retry.json).toMatchObject(change);
    expect((await stored(id))!._etag).toBe(afterDrop!._etag);
  });

  it("a delete applied but unanswered: the operation is gone and the retry is a 404", async () => {
    const id = `t-${randomUUID()}`;
    expect((await post({ id })).status).toBe(201);
    // The delete's one write: the operation replaced by its tombstone.
    proxy.inject("replace", { kind: "drop", after: true }, 1);
    expectGraphError(await call(one(id), { method: "DELETE", token: app }), 503, "serviceNotAvailable");
    expect(await stored(id)).toMatchObject({ tombstone: true });
    expect(await stored(id)).not.toHaveProperty("status");
    expectGraphError(await call(one(id), { method: "DELETE", token: app }), 404, "itemNotFound");
  });
});

describe("continuation tokens", () => {
  /** The scope operations.ts binds a continuation to, computed as a caller could. */
  const scopeOf = (filter: unknown = null, orderBy: unknown = null) =>
    createHash("sha256")
      .update(JSON.stringify([DEV_TENANT_ID, TEAM, filter, orderBy]))
      .digest("base64url")
      .slice(0, 22);
  const forged = (continuation: string) =>
    Buffer.from(JSON.stringify({ s: scopeOf(), c: continuation })).toString("base64url");

  it.each([
    ["garbage", "not a continuation"],
    ["JSON of the wrong shape", JSON.stringify({ token: 1, range: { min: "", max: "FF" } })],
    ["an empty string", ""],
    ["a huge number", "9".repeat(400)],
  ])(
    "a $skiptoken whose continuation is %s is never a 5xx and stays in the caller's scope",
    async (_, continuation) => {
      for (let i = 0; i < 3; i++) expect((await post({})).status).toBe(201);
      const res = await call(`${collection()}?$top=1&$skiptoken=${forged(continuation)}`, { token: app });
      // The embedded store restarts a query for a continuation it cannot read; Azure refuses it (400).
      expect([200, 400], res.text).toContain(res.status);
      if (res.status === 400) expectGraphError(res, 400, "invalidRequest");
      else for (const item of res.json.value as Array<{ id: string }>) expect(await stored(item.id)).toBeDefined();
    },
  );

  it("a store that refuses a continuation (400) gives the caller a 400 for its $skiptoken", async () => {
    for (let i = 0; i < 2; i++) expect((await post({})).status).toBe(201);
    const first = await call(`${collection()}?$top=1`, { token: app });
    expect(first.status).toBe(200);
    const next = first.json["@odata.nextLink"] as string;
    expect(next).toBeTruthy();
    // Only the page request that carries the continuation (not its query plan, nor a timer's query).
    const pageWithContinuation = (r: MatchedRequest) =>
      r.kind === "query" &&
      r.headers["x-ms-documentdb-isquery"] !== undefined &&
      r.headers["x-ms-continuation"] !== undefined;
    proxy.inject(pageWithContinuation, { kind: "status", status: 400 });
    const res = await call(next, { token: app });
    expect(expectGraphError(res, 400, "invalidRequest").target).toBe("$skiptoken");
  });
});
