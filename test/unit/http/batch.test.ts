/**
 * JSON batching's wire conventions: reading a batch (what makes the whole batch a 400), each inner request as the
 * HttpRequest a host would build, the order requests run in (dependsOn, 424, the time limit) and each answer in
 * Graph's shape. The answers themselves come from the routes' handlers: test/integration/batch.test.ts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import {
  BATCH_ORIGIN,
  BATCH_VALIDATORS_FILE,
  COMMAND,
  validatorsModuleSource,
} from "../../../scripts/compile-validators.js";
import {
  batchAnswer,
  innerRequest,
  MAX_BATCH_REQUESTS,
  parseBatch,
  runBatch,
  type BatchAnswer,
  type BatchItem,
} from "../../../shared/http/batch.js";
import { batchRequestSchema } from "../../../shared/http/batchSchema.js";
import { refusal } from "../../support/refusal.js";
import { PROJECT_ROOT } from "../../support/stack.js";

const TEAM = "3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f";
const get = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  method: "GET",
  url: `/teams/${TEAM}/operations`,
  ...extra,
});

describe("the generated batch validator", () => {
  it(`is what the schema generates (after a schema change, run ${COMMAND})`, () => {
    const committed = readFileSync(join(PROJECT_ROOT, BATCH_VALIDATORS_FILE), "utf8");
    const source = validatorsModuleSource([batchRequestSchema], BATCH_ORIGIN);
    expect(source === committed, `${BATCH_VALIDATORS_FILE} is out of date: run ${COMMAND}`).toBe(true);
  });
});

describe("parseBatch", () => {
  it("reads Graph's documented shape: ids, methods, relative URLs, headers, JSON bodies, dependsOn", () => {
    const [first, second] = parseBatch({
      requests: [
        get("1"),
        {
          id: "2",
          method: "patch",
          url: `teams('${TEAM}')/operations/op%2D1?$select=id`,
          headers: { "Content-Type": "application/json", "If-Match": '"e1"' },
          body: { status: "inProgress" },
          dependsOn: ["1"],
        },
      ],
    });
    expect(first).toMatchObject({ id: "1", method: "GET", path: `teams/${TEAM}/operations`, dependsOn: [] });
    expect(second).toMatchObject({
      method: "PATCH",
      // Decoded for routing as the host decodes a path; the request line keeps what was sent.
      path: `teams('${TEAM}')/operations/op-1`,
      target: `/v1.0/teams('${TEAM}')/operations/op%2D1?$select=id`,
      headers: { "Content-Type": "application/json", "If-Match": '"e1"' },
      dependsOn: ["1"],
    });
    expect(Buffer.from(second!.body!).toString()).toBe('{"status":"inProgress"}');
  });

  it("takes URLs with the version in front, as an SDK that strips only the host writes them", () => {
    for (const url of [`/v1.0/teams/${TEAM}/operations`, `v1.0/teams/${TEAM}/operations`]) {
      expect(parseBatch({ requests: [get("1", { url })] })[0]!.path).toBe(`teams/${TEAM}/operations`);
    }
    expect(parseBatch({ requests: [get("1", { url: "/" })] })[0]!.path).toBe("");
  });

  it("reads a string body as base64url bytes (any body that is not JSON)", () => {
    const body = Buffer.from('{"operationType":"cloneTeam"}').toString("base64url");
    const [item] = parseBatch({ requests: [{ id: "1", method: "POST", url: "/x", body }] });
    expect(Buffer.from(item!.body!).toString()).toBe('{"operationType":"cloneTeam"}');
  });

  it("refuses the whole batch for what makes it malformed, naming each request", () => {
    const cases: Array<[unknown, string[]]> = [
      [{}, ["requests"]],
      [{ requests: [] }, ["requests"]],
      [{ requests: Array.from({ length: MAX_BATCH_REQUESTS + 1 }, (_, i) => get(String(i))) }, ["requests"]],
      [{ requests: [get("1"), get("A"), get("a")] }, ["requests.2.id"]],
      [{ requests: [get("1", { dependsOn: ["2"] })] }, ["requests.0.dependsOn"]],
      [{ requests: [get("1", { dependsOn: ["1"] })] }, ["requests.0.dependsOn"]],
      [{ requests: [{ id: "1", url: "/x" }] }, ["requests.0.method"]],
      [{ requests: [get("1", { method: "GE T" })] }, ["requests.0.method"]],
      [{ requests: [get("1", { colour: "red" })] }, ["requests.0.colour"]],
      [{ requests: [get("1", { headers: { "Bad Name": "x" } })] }, ["requests.0.headers"]],
      [{ requests: [get("1", { headers: { Prefer: "a\r\nInjected: 1" } })] }, ["requests.0.headers.Prefer"]],
      [{ requests: [get("1", { headers: { Authorization: "Bearer x" } })] }, ["requests.0.headers.Authorization"]],
      [{ requests: [get("1", { body: "not base64!" })] }, ["requests.0.body"]],
      [{ requests: [get("1", { url: "https://elsewhere.example/v1.0/teams" })] }, ["requests.0.url"]],
      [{ requests: [get("1", { url: "//elsewhere.example/v1.0/teams" })] }, ["requests.0.url"]],
      [{ requests: [get("1", { url: "/../health" })] }, ["requests.0.url"]],
      [{ requests: [get("1", { url: "\\\\elsewhere.example/teams" })] }, ["requests.0.url"]],
    ];
    for (const [body, targets] of cases) {
      const error = refusal(() => parseBatch(body));
      expect(error.status, JSON.stringify(body).slice(0, 200)).toBe(400);
      expect(error.code).toBe("invalidRequest");
      expect(error.details.map((d) => d.target)).toEqual(targets);
    }
  });

  it("refuses dependencies that loop", () => {
    const error = refusal(() =>
      parseBatch({
        requests: [get("1", { dependsOn: ["3"] }), get("2", { dependsOn: ["1"] }), get("3", { dependsOn: ["2"] })],
      }),
    );
    expect(error.status).toBe(400);
    expect(error.details.map((d) => d.target)).toEqual(["requests"]);
  });
});

describe("innerRequest", () => {
  const batch = new HttpRequest({
    method: "POST",
    url: "https://api.example/v1.0/$batch",
    headers: { authorization: "Bearer batch-token", "client-request-id": "batch-1" },
  });

  it("is the request sent alone: the batch's origin, the batch's token, its own headers and body", async () => {
    const [item] = parseBatch({
      requests: [
        {
          id: "1",
          method: "POST",
          url: `/teams/${TEAM}/operations?x=1`,
          headers: { "Content-Type": "application/json", "Content-Length": "1", Host: "elsewhere" },
          body: { operationType: "cloneTeam" },
        },
      ],
    });
    const request = innerRequest(item!, batch, { teamId: TEAM });
    expect(request.url).toBe(`https://api.example/v1.0/teams/${TEAM}/operations?x=1`);
    expect(request.params).toEqual({ teamId: TEAM });
    expect(Object.fromEntries(request.headers)).toEqual({
      authorization: "Bearer batch-token",
      "client-request-id": "batch-1",
      "content-type": "application/json",
      "content-length": "29",
    });
    expect(await request.text()).toBe('{"operationType":"cloneTeam"}');
  });

  it("keeps a client-request-id of its own", () => {
    const [item] = parseBatch({ requests: [get("1", { headers: { "client-request-id": "own" } })] });
    expect(innerRequest(item!, batch, {}).headers.get("client-request-id")).toBe("own");
  });
});

describe("batchAnswer", () => {
  it("writes JSON as JSON, text as a string and other bytes as base64url, with the headers as the handler named them", async () => {
    const json = await batchAnswer("1", {
      status: 201,
      headers: { "Content-Type": "application/json;charset=utf-8", ETag: '"e"' },
      body: '{"id":"x"}',
    });
    expect(json).toEqual({
      id: "1",
      status: 201,
      headers: { "Content-Type": "application/json;charset=utf-8", ETag: '"e"' },
      body: { id: "x" },
    });
    expect((await batchAnswer("2", { headers: { "Content-Type": "text/plain" }, body: "7" })).body).toBe("7");
    const xml = await batchAnswer("3", { headers: { "Content-Type": "application/xml" }, body: "<a/>" });
    expect(Buffer.from(xml.body as string, "base64url").toString()).toBe("<a/>");
    expect(await batchAnswer("4", { status: 204, headers: { "request-id": "r" } })).toEqual({
      id: "4",
      status: 204,
      headers: { "request-id": "r" },
    });
  });
});

describe("runBatch", () => {
  const items = (...specs: Array<[string, string[]?]>): BatchItem[] =>
    parseBatch({ requests: specs.map(([id, dependsOn]) => get(id, dependsOn ? { dependsOn } : {})) });
  const answer = (id: string, status: number): BatchAnswer => ({ id, status, headers: {} });
  const notRun = (item: BatchItem, reason: string) =>
    Promise.resolve(answer(item.id, reason === "timeLimit" ? 503 : 424));

  it("starts independent requests together and each dependent one after what it depends on", async () => {
    const events: string[] = [];
    const release = new Map<string, () => void>();
    const run = (item: BatchItem) => {
      events.push(`start ${item.id}`);
      return new Promise<BatchAnswer>((resolve) =>
        release.set(item.id, () => {
          events.push(`end ${item.id}`);
          resolve(answer(item.id, 200));
        }),
      );
    };
    const done = runBatch(items(["a"], ["b"], ["c", ["a", "B"]]), run, notRun);
    await new Promise((r) => setTimeout(r, 0));
    expect(events).toEqual(["start a", "start b"]);
    release.get("b")!();
    await new Promise((r) => setTimeout(r, 0));
    expect(events).toEqual(["start a", "start b", "end b"]);
    release.get("a")!();
    await new Promise((r) => setTimeout(r, 0));
    release.get("c")!();
    expect((await done).map((a) => a.id)).toEqual(["a", "b", "c"]);
    expect(events).toEqual(["start a", "start b", "end b", "end a", "start c", "end c"]);
  });

  it("answers 424 for a request whose dependency failed, and for those that depend on it in turn", async () => {
    const ran: string[] = [];
    const run = (item: BatchItem) => {
      ran.push(item.id);
      return Promise.resolve(answer(item.id, item.id === "1" ? 409 : 200));
    };
    const answers = await runBatch(items(["1"], ["2", ["1"]], ["3", ["2"]], ["4"]), run, notRun);
    expect(answers.map((a) => a.status)).toEqual([409, 424, 424, 200]);
    expect(ran.sort()).toEqual(["1", "4"]);
  });

  it("runs nothing that would start past the time limit", async () => {
    let clock = 0;
    const run = (item: BatchItem) => {
      clock += 600;
      return Promise.resolve(answer(item.id, 200));
    };
    const answers = await runBatch(items(["1"], ["2", ["1"]], ["3", ["2"]]), run, notRun, 1_000, () => clock);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 503]);
  });
});
