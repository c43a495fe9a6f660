/**
 * The hostile-input corpus (test/corpus/*.json) over real HTTP: every case is
 * sent as written (raw path, raw headers, raw bytes, through node:http so
 * nothing is normalised on the way), and must get exactly its expected status
 * and error code, in Graph's error shape, never a 500, and leave the store as
 * it was.
 */
import { request as httpRequest } from "node:http";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detailTargets, expectGraphError, TEAM, type ApiResponse } from "../support/http.js";
import { PROJECT_ROOT, startStack, type Stack } from "../support/stack.js";

/** A string, or parts to join: a string, or [text, n] for text repeated n times. */
type Text = string | ReadonlyArray<string | readonly [string, number]>;

export interface CorpusCase {
  readonly name: string;
  readonly method: string;
  /** Under the base path (`/v1.0`); `{team}`, `{op}` and `{etag}` are replaced. */
  readonly path: Text;
  /** `null` removes a header the runner would otherwise send (Content-Type). */
  readonly headers?: Readonly<Record<string, Text | null>>;
  /** The raw body text. */
  readonly body?: Text;
  /** A body serialised with JSON.stringify. */
  readonly json?: unknown;
  /** Raw body bytes. */
  readonly bodyBase64?: string;
  /** Send without Content-Length (chunked). */
  readonly chunked?: boolean;
  /** Who calls: an application (default), a delegated member of {team}, or nobody. */
  readonly token?: "app" | "user" | "none";
  readonly expect: {
    readonly status: number;
    /** The Graph error code; null for an answer the host gives before the app runs (no route). */
    readonly code?: string | null;
    readonly target?: string;
    /** The targets of error.details, in any order. */
    readonly details?: readonly string[];
  };
}

const CORPUS_DIR = join(PROJECT_ROOT, "test", "corpus");
const files = readdirSync(CORPUS_DIR).filter((f) => f.endsWith(".json"));
const corpus = files.map((file) => ({
  file,
  cases: (JSON.parse(readFileSync(join(CORPUS_DIR, file), "utf8")) as { cases: CorpusCase[] }).cases,
}));

const FIXTURE_ID = "corpus-fixture";
let stack: Stack;
let tokens: Record<"app" | "user", string>;
let fixtureEtag: string;

function expand(text: Text, vars: Record<string, string>): string {
  const joined =
    typeof text === "string"
      ? text
      : text.map((part) => (typeof part === "string" ? part : part[0].repeat(part[1]))).join("");
  return joined.replace(/\{(team|op|etag)\}/g, (_, name: string) => vars[name]!);
}

/** Sends exactly what the case says: node:http does not resolve `..` or re-encode the path. */
function send(testCase: CorpusCase): Promise<ApiResponse> {
  const vars = { team: TEAM, op: FIXTURE_ID, etag: fixtureEtag };
  const base = new URL(stack.baseUrl);
  const headers: Record<string, string> = {};
  const token = testCase.token ?? "app";
  if (token !== "none") headers.authorization = `Bearer ${tokens[token]}`;
  let body: Buffer | undefined;
  if (testCase.json !== undefined) body = Buffer.from(JSON.stringify(testCase.json));
  else if (testCase.body !== undefined) body = Buffer.from(expand(testCase.body, vars));
  else if (testCase.bodyBase64 !== undefined) body = Buffer.from(testCase.bodyBase64, "base64");
  if (body) headers["content-type"] = "application/json";
  for (const [name, value] of Object.entries(testCase.headers ?? {})) {
    if (value === null) delete headers[name.toLowerCase()];
    else headers[name.toLowerCase()] = expand(value, vars);
  }
  if (body && !testCase.chunked) headers["content-length"] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        method: testCase.method,
        path: `${base.pathname}${expand(testCase.path, vars)}`,
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(", ") : value);
          }
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: responseHeaders, text, json });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

beforeAll(async () => {
  stack = await startStack();
  tokens = { app: await stack.token({ app: true }), user: await stack.token({ groups: [TEAM] }) };
  const created = await fetch(`${stack.baseUrl}/teams/${TEAM}/operations`, {
    method: "POST",
    headers: { authorization: `Bearer ${tokens.app}`, "content-type": "application/json" },
    body: JSON.stringify({ id: FIXTURE_ID, operationType: "archiveTeam" }),
  });
  expect(created.status, await created.text()).toBe(201);
  fixtureEtag = created.headers.get("etag")!.replace(/^"|"$/g, "");
});
afterAll(() => stack?.stop());

it("has at least 150 cases over every route", () => {
  const all = corpus.flatMap((c) => c.cases);
  expect(all.length).toBeGreaterThanOrEqual(150);
  const methods = new Set(all.map((c) => c.method));
  expect([...methods].sort()).toEqual(["DELETE", "GET", "PATCH", "POST"]);
  const paths = all.map((c) => expand(c.path, { team: TEAM, op: FIXTURE_ID, etag: "" }));
  expect(paths.some((p) => p.endsWith("/operations/$ref"))).toBe(true);
  expect(paths.some((p) => p.startsWith("/me/") && p.endsWith("/team/operations/$ref"))).toBe(true);
  expect(paths.some((p) => p.startsWith("/me/") && p.includes("?$"))).toBe(true);
});

for (const { file, cases } of corpus) {
  describe(file, () => {
    for (const testCase of cases) {
      it(`${testCase.expect.status} ${testCase.name}`, async () => {
        const before = await stack.documents();
        // Node's HTTP server answers an oversized request head with 431 and closes the connection at once;
        // depending on timing the client reads the 431 or, still writing, sees the reset. Both are the refusal.
        const res = await send(testCase).catch((error: NodeJS.ErrnoException) => {
          if (testCase.expect.status === 431 && error.code === "ECONNRESET") {
            return { status: 431, headers: new Headers(), text: "", json: undefined } satisfies ApiResponse;
          }
          throw error;
        });
        expect(res.status, res.text).not.toBe(500);
        expect(res.status, res.text.slice(0, 2000)).toBe(testCase.expect.status);
        if (testCase.expect.code) {
          const error = expectGraphError(res, testCase.expect.status, testCase.expect.code);
          if (testCase.expect.target) expect(error.target).toBe(testCase.expect.target);
          if (testCase.expect.details) {
            expect(detailTargets(error).sort()).toEqual([...testCase.expect.details].sort());
          }
        }
        if (testCase.expect.status < 500) expect(await stack.documents()).toEqual(before);
      });
    }
  });
}
