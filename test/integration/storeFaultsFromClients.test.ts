/**
 * Client faults are 4xx, store faults are one clear 503: a forged or damaged
 * $skiptoken is a 400 naming it (never a store outage), and a store whose
 * container or database does not exist answers the same 503 on every route
 * and in /health, never a 500 or a misleading 404.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, expectGraphError, TEAM } from "../support/http.js";
import { startStack, type Stack } from "../support/stack.js";

let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = await startStack();
  token = await stack.token({ app: true });
});
afterAll(() => stack?.stop());

const collection = () => `${stack.baseUrl}/teams/${TEAM}/operations`;

describe("a forged or damaged $skiptoken", () => {
  it("is a 400 naming $skiptoken, whatever the continuation inside it holds", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await call(collection(), { method: "POST", token, body: { operationType: "cloneTeam" } });
      expect(res.status).toBe(201);
    }
    const first = await call(`${collection()}?$top=1`, { token });
    const issued = new URL(first.json["@odata.nextLink"]).searchParams.get("$skiptoken")!;
    const envelope = JSON.parse(Buffer.from(issued, "base64url").toString("utf8")) as { s: string; c: string };
    const forged = (c: unknown) => Buffer.from(JSON.stringify({ s: envelope.s, c })).toString("base64url");
    // Tokens no store issued: refused before the store is asked.
    const refused = [
      forged("é€😀"), // not Latin-1: cannot be sent in a header
      forged("a\u0000b"), // a NUL
      forged("line\r\nx-injected: 1"),
      forged("x".repeat(9_000)),
      forged(12),
      forged(""),
      issued.slice(0, -3), // damaged
      `${issued}!`,
      Buffer.from(JSON.stringify({ s: "another query", c: envelope.c })).toString("base64url"),
    ];
    for (const skiptoken of refused) {
      const res = await call(`${collection()}?$top=1&$skiptoken=${encodeURIComponent(skiptoken)}`, { token });
      expect(expectGraphError(res, 400, "invalidRequest").target, skiptoken.slice(0, 60)).toBe("$skiptoken");
    }
    // Continuations only the store can judge: a page of the caller's own query, or a 400; never a store outage.
    for (const c of ['{"token":"x","range":{"min":"","max":"FF"}}', "{not json", "+RID:~garbage#RT:1"]) {
      const res = await call(`${collection()}?$top=1&$skiptoken=${forged(c)}`, { token });
      if (res.status !== 200) expect(expectGraphError(res, 400, "invalidRequest").target).toBe("$skiptoken");
    }
    // The store was never reported down.
    expect(stack.output()).not.toMatch(/serviceNotAvailable/);
  });
});

describe("a store without its container or database", () => {
  it("answers one clear 503 on every route and in /health", async () => {
    const created = await call(collection(), { method: "POST", token, body: { operationType: "cloneTeam" } });
    expect(created.status).toBe(201);
    const one = `${collection()}/${created.json.id}`;
    const requests = () => [
      call(collection(), { method: "POST", token, body: { operationType: "cloneTeam" } }),
      call(one, { token }),
      call(`${collection()}/never-created`, { token }),
      call(collection(), { token }),
      call(`${collection()}?$count=true&$filter=${encodeURIComponent("status eq 'notStarted'")}`, { token }),
      call(one, { method: "PATCH", token, body: { status: "inProgress" } }),
      call(one, { method: "DELETE", token }),
    ];
    const expectAll503 = async () => {
      const answers = await Promise.all(requests());
      const messages = answers.map((res) => {
        const error = expectGraphError(res, 503, "serviceNotAvailable");
        expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
        return error.message as string;
      });
      expect(new Set(messages).size, messages.join("\n")).toBe(1);
      expect(messages[0]).toMatch(/database or container does not exist/);
      const deadline = Date.now() + 20_000;
      for (;;) {
        const health = await call(`${stack.baseUrl}/health`);
        if (health.status === 503) {
          expect(health.json).toEqual({ status: "unhealthy", checks: { store: "down" } });
          break;
        }
        if (Date.now() > deadline) throw new Error(`/health still says ${health.status}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };

    await stack.container.delete();
    await expectAll503();
    await stack.container.database.delete();
    await expectAll503();
  });
});
