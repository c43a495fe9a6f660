/**
 * Concurrency on every method as RFC 9110 (section 13) says, over real HTTP through the local runner: If-Match and
 * If-None-Match on GET, PATCH and DELETE of an operation (a 412, or a 304 for a GET whose If-None-Match matches, and
 * nothing changed by a refused request), preconditions ignored where the answer would be a 404 anyway, and concurrent
 * renewals of one subscription, none with If-Match, all applied: no 412 for a race the client did not ask about.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, expectGraphError, TEAM } from "../support/http.js";
import { inMinutes, receiverPool, subscriptionCalls } from "../support/subscriptionCalls.js";
import { startStack, type Stack } from "../support/stack.js";

let stack: Stack;
let app: string;
const receivers = receiverPool();
const { subscribed, renew } = subscriptionCalls(
  () => stack.baseUrl,
  () => app,
);

const url = (id: string) => `${stack.baseUrl}/teams/${TEAM}/operations/${id}`;

/** A new operation: its id and its ETag. */
async function operation(): Promise<{ id: string; etag: string }> {
  const created = await call(`${stack.baseUrl}/teams/${TEAM}/operations`, {
    method: "POST",
    token: app,
    body: { operationType: "cloneTeam", status: "inProgress" },
  });
  expect(created.status, created.text).toBe(201);
  return { id: created.json.id, etag: created.headers.get("etag")! };
}

const get = (id: string, headers: Record<string, string>) => call(url(id), { token: app, headers });
const patch = (id: string, headers: Record<string, string>, attemptsCount = 1) =>
  call(url(id), { method: "PATCH", token: app, headers, body: { attemptsCount } });
const remove = (id: string, headers: Record<string, string>) =>
  call(url(id), { method: "DELETE", token: app, headers });

beforeAll(async () => {
  stack = await startStack({
    env: { SUBSCRIPTION_ALLOW_LOOPBACK: "true", SUBSCRIPTION_VALIDATION_TIMEOUT_SECONDS: "2" },
  });
  app = await stack.token({ app: true });
});
afterAll(async () => {
  await stack?.stop();
  await receivers.close();
});

describe("GET of an operation", () => {
  it("If-Match: 412 when it names another version; 200 for the current one or *", async () => {
    const { id, etag } = await operation();
    expectGraphError(await get(id, { "If-Match": '"another"' }), 412, "resourceModified");
    expect((await get(id, { "If-Match": etag })).status).toBe(200);
    expect((await get(id, { "If-Match": "*" })).status).toBe(200);
  });

  it("If-None-Match: 304 for the current version or *, 200 for another; If-Match is weighed first", async () => {
    const { id, etag } = await operation();
    const notModified = await get(id, { "If-None-Match": etag });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("etag")).toBe(etag);
    expect((await get(id, { "If-None-Match": "*" })).status).toBe(304);
    expect((await get(id, { "If-None-Match": '"another"' })).status).toBe(200);
    expect((await get(id, { "If-Match": etag, "If-None-Match": etag })).status).toBe(304);
    expectGraphError(await get(id, { "If-Match": '"another"', "If-None-Match": etag }), 412, "resourceModified");
  });
});

describe("PATCH of an operation", () => {
  it("If-None-Match * or the current ETag: 412, nothing changed; another ETag: applied", async () => {
    const { id, etag } = await operation();
    for (const ifNoneMatch of ["*", etag, `"another", ${etag}`]) {
      expectGraphError(await patch(id, { "If-None-Match": ifNoneMatch }), 412, "resourceModified");
    }
    expectGraphError(await patch(id, { "If-Match": etag, "If-None-Match": etag }), 412, "resourceModified");
    const read = await get(id, {});
    expect(read.json.attemptsCount).toBe(0);
    expect(read.headers.get("etag")).toBe(etag);
    const applied = await patch(id, { "If-None-Match": '"another"' }, 2);
    expect(applied.status, applied.text).toBe(200);
    expect(applied.json.attemptsCount).toBe(2);
  });

  it("If-Match keeps working: the current ETag applies, a stale one is a 412", async () => {
    const { id, etag } = await operation();
    expect((await patch(id, { "If-Match": etag })).status).toBe(200);
    expectGraphError(await patch(id, { "If-Match": etag }, 2), 412, "resourceModified");
  });
});

describe("DELETE of an operation", () => {
  it("If-None-Match * or the current ETag: 412, still there; another ETag: deleted", async () => {
    const { id, etag } = await operation();
    expectGraphError(await remove(id, { "If-None-Match": "*" }), 412, "resourceModified");
    expectGraphError(await remove(id, { "If-None-Match": etag }), 412, "resourceModified");
    expect((await get(id, {})).status).toBe(200);
    expect((await remove(id, { "If-None-Match": '"another"' })).status).toBe(204);
    expectGraphError(await get(id, {}), 404, "itemNotFound");
  });

  it("preconditions are not weighed where the answer is a 404 anyway", async () => {
    const missing = randomUUID();
    const conditions: Array<Record<string, string>> = [
      { "If-Match": "*" },
      { "If-Match": '"x"' },
      { "If-None-Match": "*" },
    ];
    for (const headers of conditions) {
      expectGraphError(await get(missing, headers), 404, "itemNotFound");
      expectGraphError(await patch(missing, headers), 404, "itemNotFound");
      expectGraphError(await remove(missing, headers), 404, "itemNotFound");
    }
  });
});

describe("renewals of one subscription", () => {
  it("six at once, none with If-Match: all applied (no 412), the stored expiration one of theirs", async () => {
    const r = await receivers.start();
    const subscription = await subscribed({
      changeType: "created",
      notificationUrl: r.url,
      resource: `teams/${randomUUID()}/operations`,
      expirationDateTime: inMinutes(30),
    });
    const asked = Array.from({ length: 6 }, (_, i) => inMinutes(40 + i));
    const answers = await Promise.all(asked.map((at) => renew(subscription.id, at)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const read = await call(`${stack.baseUrl}/subscriptions/${subscription.id}`, { token: app });
    expect(asked.map(Date.parse)).toContain(Date.parse(read.json.expirationDateTime));
  });
});
