/**
 * Graph's JSON batching (`POST /v1.0/$batch`) as wire conventions: reading
 * the batch (its schema, ids unique without regard to case, dependencies that
 * exist and do not loop, URLs below the API), each inner request as the
 * `HttpRequest` the host would have built had it been sent alone, the order
 * the requests run in (`dependsOn`, a failed dependency answered 424, a time
 * limit for starting them), and each answer in Graph's shape (`id`, `status`,
 * `headers`, `body`). Which handler answers an inner request is the handler
 * layer's concern (`api/batch.ts`): the route's own registered handler, so
 * nothing checked for a request sent alone is skipped inside a batch.
 */
// The default import: @azure/functions is CommonJS, whose classes Node.js's ESM loader cannot name as exports.
import functions, { type HttpRequest, type HttpResponseInit } from "@azure/functions";
import { DetailCode, InvalidInputError, type ErrorDetail } from "../errors.js";
import { toDetails } from "../operations/schema.js";
import type { batchRequestSchema } from "./batchSchema.js";
import { isJsonMediaType } from "./mediaTypes.js";
import { decodeRoutePath } from "./routeTemplate.js";
import { originOf } from "./urls.js";
import { validateBatchRequest } from "./validators.generated.js";
import type { FromSchema } from "json-schema-to-ts";

export { MAX_BATCH_REQUESTS } from "./batchSchema.js";

/**
 * The largest batch body: the Functions host's own limit in the deployment (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT),
 * twice what one request may carry. Polling batches are a few kilobytes.
 */
export const MAX_BATCH_BODY_BYTES = 64 * 1024;

/** How much deeper than a body sent alone a batch nests its inner bodies: the batch, `requests`, the request. */
export const BATCH_BODY_NESTING = 3;

/**
 * Inner requests start within this long of the batch; those that have not are answered 503 without running, so a
 * batch ends well inside the function timeout (host.json) whatever its dependencies make it wait for.
 */
export const BATCH_START_LIMIT_MS = 30_000;

/** The route prefix inner URLs are relative to (host.json). */
const PREFIX = "/v1.0";

type BatchBody = FromSchema<typeof batchRequestSchema>;
type BatchEntry = BatchBody["requests"][number];

/** One inner request, read and checked. */
export interface BatchItem {
  /** The client's id, as given. */
  readonly id: string;
  /** Upper-cased. */
  readonly method: string;
  /** The path below the route prefix, percent-decoded as the host's routing decodes it (what routes match). */
  readonly path: string;
  /** The path and query as the request line would carry them, `/v1.0/...`. */
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The body's bytes (JSON as text; any other body decoded from base64url), or none. */
  readonly body: Uint8Array | undefined;
  /** The ids this request waits for, as given. */
  readonly dependsOn: readonly string[];
}

/** An inner request's answer, as Graph writes it in `responses`. */
export interface BatchAnswer {
  readonly id: string;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

const invalid = (target: string, message: string): ErrorDetail => ({ code: DetailCode.invalidValue, target, message });

function refuse(details: readonly ErrorDetail[]): never {
  throw new InvalidInputError(`The batch is not valid: ${details.map((d) => d.target).join(", ")}.`, { details });
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Where an inner URL points, below the route prefix: relative to `/v1.0/` (Graph's form, `/teams/...`), or with the
 * version in front (`/v1.0/teams/...`, what an SDK writes when it strips only the host), never another origin or
 * a path outside the API.
 */
function resolveUrl(url: string): { path: string; target: string } | undefined {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url)) return undefined;
  const origin = "http://batch.invalid";
  const relative = url.replace(/^\//, "").replace(/^v1\.0(?=\/|\?|$)\/?/i, "");
  let resolved: URL;
  try {
    resolved = new URL(relative, `${origin}${PREFIX}/`);
  } catch {
    return undefined;
  }
  const { pathname } = resolved;
  if (resolved.origin !== origin) return undefined;
  if (pathname !== PREFIX && !pathname.startsWith(`${PREFIX}/`)) return undefined;
  return { path: decodeRoutePath(pathname.slice(PREFIX.length + 1)), target: `${pathname}${resolved.search}` };
}

/** The schema's findings as details, one per target; a pattern says what it wants. */
function schemaDetails(): ErrorDetail[] {
  const errors = validateBatchRequest.errors ?? [];
  const patterns = errors
    .filter((e) => e.keyword === "pattern")
    .map((e) => {
      const target = e.instancePath.split("/").slice(1).join(".");
      return invalid(target, `'${target}' must be an HTTP token (a method or header name) or a header value.`);
    });
  const others = toDetails(
    errors.filter((e) => e.keyword !== "pattern"),
    new Set(),
  );
  return [...patterns, ...others.filter((d) => !patterns.some((p) => p.target === d.target))];
}

/** The headers an inner request may not set: the batch carries the framing, and its own token. */
const FRAMING_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection"]);

function readItem(entry: BatchEntry, at: number, details: ErrorDetail[]): BatchItem | undefined {
  const where = `requests.${at}`;
  const target = resolveUrl(entry.url);
  if (!target)
    details.push(invalid(`${where}.url`, "The url must be relative to /v1.0 (like /teams/{id}/operations)."));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(entry.headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower === "authorization") {
      details.push(
        invalid(
          `${where}.headers.${name}`,
          "Inner requests are sent with the batch's token: give it on the batch only.",
        ),
      );
    } else if (!FRAMING_HEADERS.has(lower)) {
      headers[name] = value;
    }
  }
  let body: Uint8Array | undefined;
  if (entry.body !== undefined) {
    if (typeof entry.body === "string") {
      if (!BASE64.test(entry.body)) {
        details.push(invalid(`${where}.body`, "A body that is a string must be base64url-encoded bytes."));
      }
      body = Buffer.from(entry.body, "base64");
    } else {
      body = Buffer.from(JSON.stringify(entry.body), "utf8");
    }
  }
  if (!target) return undefined;
  return {
    id: entry.id,
    method: entry.method.toUpperCase(),
    ...target,
    headers,
    body,
    dependsOn: entry.dependsOn ?? [],
  };
}

/** Whether following `dependsOn` from some request comes back to it. */
function hasCycle(items: readonly BatchItem[]): boolean {
  const byId = new Map(items.map((item) => [item.id.toLowerCase(), item]));
  const state = new Map<string, "visiting" | "done">();
  const visit = (id: string): boolean => {
    const seen = state.get(id);
    if (seen) return seen === "visiting";
    state.set(id, "visiting");
    const looped = (byId.get(id)?.dependsOn ?? []).some((dep) => visit(dep.toLowerCase()));
    state.set(id, "done");
    return looped;
  };
  return items.some((item) => visit(item.id.toLowerCase()));
}

/**
 * Reads a batch body (already parsed and guarded): a 400 naming every malformed request, a duplicate id (ids
 * compare without case, as Graph says), a dependency on no request of the batch or on itself, or a loop.
 */
export function parseBatch(body: unknown): BatchItem[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidInputError("The request body must be a JSON object with 'requests'.");
  }
  if (!validateBatchRequest(body)) refuse(schemaDetails());
  const entries = (body as BatchBody).requests;
  const details: ErrorDetail[] = [];
  const ids = new Map<string, number>();
  entries.forEach((entry, at) => {
    const id = entry.id.toLowerCase();
    if (ids.has(id)) details.push(invalid(`requests.${at}.id`, `The id '${entry.id}' is used by another request.`));
    else ids.set(id, at);
  });
  entries.forEach((entry, at) => {
    for (const dependency of entry.dependsOn ?? []) {
      const on = ids.get(dependency.toLowerCase());
      if (on === undefined) {
        details.push(invalid(`requests.${at}.dependsOn`, `No request of the batch has the id '${dependency}'.`));
      } else if (on === at) {
        details.push(invalid(`requests.${at}.dependsOn`, "A request cannot depend on itself."));
      }
    }
  });
  const items = entries.map((entry, at) => readItem(entry, at, details));
  if (details.length > 0) refuse(details);
  const read = items as BatchItem[];
  if (hasCycle(read)) refuse([invalid("requests", "The requests' dependsOn form a loop.")]);
  return read;
}

/**
 * The `HttpRequest` the host would have handed the route had the inner request been sent alone to the batch's
 * origin: its method, URL, headers and body, the batch's token, and the batch's `client-request-id` unless it
 * names its own. `params` are the route's values (the catch-all's `path` for the fallback).
 */
export function innerRequest(item: BatchItem, batch: HttpRequest, params: Record<string, string>): HttpRequest {
  const headers: Record<string, string> = { ...item.headers };
  const has = (name: string) => Object.keys(headers).some((n) => n.toLowerCase() === name);
  const authorization = batch.headers.get("authorization");
  if (authorization !== null) headers.authorization = authorization;
  const clientRequestId = batch.headers.get("client-request-id");
  if (clientRequestId !== null && !has("client-request-id")) headers["client-request-id"] = clientRequestId;
  // GET and HEAD carry no body (the Request a host builds cannot hold one).
  const body = item.method === "GET" || item.method === "HEAD" ? undefined : item.body;
  if (body) headers["content-length"] = String(body.byteLength);
  return new functions.HttpRequest({
    method: item.method,
    url: `${originOf(batch.url)}${item.target}`,
    headers,
    params,
    ...(body ? { body: { bytes: body } } : {}),
  });
}

/** An answer's body as Graph writes it in a batch: JSON as JSON, text as a string, anything else as base64url. */
function answerBody(contentType: string | undefined, bytes: Buffer): unknown {
  if (bytes.byteLength === 0) return undefined;
  const type = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  if (isJsonMediaType(contentType ?? null) || type.endsWith("+json")) {
    try {
      return JSON.parse(bytes.toString("utf8")) as unknown;
    } catch {
      // not JSON after all: sent as bytes
    }
  }
  if (type.startsWith("text/")) return bytes.toString("utf8");
  return bytes.toString("base64url");
}

/** A handler's answer as one entry of `responses`: its status, its headers as it named them, its body. */
export async function batchAnswer(id: string, init: HttpResponseInit): Promise<BatchAnswer> {
  const response = new functions.HttpResponse(init);
  const given = init.headers;
  const headers: Record<string, string> =
    given && !(given instanceof Headers) && !Array.isArray(given)
      ? Object.fromEntries(Object.entries(given).map(([name, value]) => [name, String(value)]))
      : Object.fromEntries(response.headers.entries());
  const contentType = Object.entries(headers).find(([name]) => name.toLowerCase() === "content-type")?.[1];
  const body = answerBody(contentType, Buffer.from(await response.arrayBuffer()));
  return { id, status: response.status, headers, ...(body === undefined ? {} : { body }) };
}

/** What the batch answers for a request it did not run. */
export type NotRun = (
  item: BatchItem,
  reason: "failedDependency" | "timeLimit",
  dependency?: string,
) => Promise<BatchAnswer>;

/**
 * Runs the requests: each as soon as the requests it depends on have answered, those with no dependency at once.
 * A request whose dependency failed (4xx or 5xx, a 424 included) is not run and answered `notRun(failedDependency)`;
 * one that would start after `startLimitMs` is not run and answered `notRun(timeLimit)`. Answers come back in the
 * requests' order. `run` must not throw (the handlers answer every failure).
 */
export async function runBatch(
  items: readonly BatchItem[],
  run: (item: BatchItem) => Promise<BatchAnswer>,
  notRun: NotRun,
  startLimitMs = BATCH_START_LIMIT_MS,
  now: () => number = () => performance.now(),
): Promise<BatchAnswer[]> {
  const started = now();
  const byId = new Map(items.map((item) => [item.id.toLowerCase(), item]));
  const answers = new Map<string, Promise<BatchAnswer>>();
  const answer = (item: BatchItem): Promise<BatchAnswer> => {
    const key = item.id.toLowerCase();
    let pending = answers.get(key);
    if (!pending) {
      const dependencies = item.dependsOn.map((dep) => byId.get(dep.toLowerCase())!);
      pending = Promise.all(dependencies.map(answer)).then((done) => {
        const failed = done.find((d) => d.status >= 400);
        if (failed) return notRun(item, "failedDependency", failed.id);
        if (now() - started > startLimitMs) return notRun(item, "timeLimit");
        return run(item);
      });
      answers.set(key, pending);
    }
    return pending;
  };
  return Promise.all(items.map(answer));
}
