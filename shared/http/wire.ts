/**
 * Graph's wire conventions: request ids, the Prefer header, JSON bodies read
 * within bounds, error bodies and the URLs a response points at.
 */
import { randomUUID } from "node:crypto";
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { ErrorCode, GraphError, type ErrorDetail, badRequest } from "./graphError.js";

/** The largest request body accepted; a valid operation is well under 8 KB. */
export const MAX_BODY_BYTES = 32 * 1024;
const CLIENT_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

export interface Preferences {
  readonly returnMinimal: boolean;
  readonly includeUnknownEnumMembers: boolean;
}

/** What every response needs to know about its request. */
export interface WireContext {
  readonly requestId: string;
  /** The client's `client-request-id`, or one generated for it when it sent none (or one that is not a token). */
  readonly clientRequestId: string;
  /** Scheme and host the client used (or the configured public base URL), without a trailing slash. */
  readonly baseUrl: string;
  readonly preferences: Preferences;
}

export function wireContext(request: HttpRequest, requestId: string, publicBaseUrl: string | undefined): WireContext {
  const clientRequestId = request.headers.get("client-request-id") ?? undefined;
  return {
    requestId,
    clientRequestId: clientRequestId && CLIENT_REQUEST_ID.test(clientRequestId) ? clientRequestId : randomUUID(),
    baseUrl: publicBaseUrl ?? new URL(request.url).origin,
    preferences: parsePrefer(request.headers.get("prefer")),
  };
}

/** The wire context of a request the host refuses before any function sees it: only its ids are known. */
export function refusalWireContext(clientRequestId: string | undefined, requestId: string): WireContext {
  return {
    requestId,
    clientRequestId: clientRequestId && CLIENT_REQUEST_ID.test(clientRequestId) ? clientRequestId : randomUUID(),
    baseUrl: "",
    preferences: parsePrefer(null),
  };
}

/** RFC 7240: preferences a server does not understand are ignored, not errors. */
export function parsePrefer(header: string | null): Preferences {
  const tokens = new Set(
    (header ?? "").split(",").map((p) =>
      p
        .split(";")[0]!
        .trim()
        .toLowerCase()
        .replace(/\s*=\s*/, "="),
    ),
  );
  return {
    returnMinimal: tokens.has("return=minimal"),
    includeUnknownEnumMembers: tokens.has("include-unknown-enum-members"),
  };
}

/** Headers every response carries, as Graph sends them. */
export function baseHeaders(wire: WireContext): Record<string, string> {
  return { "request-id": wire.requestId, "client-request-id": wire.clientRequestId, "OData-Version": "4.0" };
}

/** `Preference-Applied` for the preferences this response honoured. */
export function preferenceApplied(applied: readonly string[]): Record<string, string> {
  return applied.length > 0 ? { "Preference-Applied": applied.join(", ") } : {};
}

function graphDate(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, "");
}

export function errorResponse(error: GraphError, wire: WireContext, now = new Date()): HttpResponseInit {
  const body: {
    error: {
      code: string;
      message: string;
      target?: string;
      details?: readonly ErrorDetail[];
      innerError: Record<string, string>;
    };
  } = {
    error: {
      code: error.code,
      message: error.message,
      innerError: { date: graphDate(now), "request-id": wire.requestId, "client-request-id": wire.clientRequestId },
    },
  };
  if (error.target) body.error.target = error.target;
  if (error.details.length > 0) body.error.details = error.details;
  return {
    status: error.status,
    headers: { ...baseHeaders(wire), ...error.headers, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
}

export function jsonResponse(
  status: number,
  body: unknown,
  wire: WireContext,
  headers: Record<string, string> = {},
): HttpResponseInit {
  return {
    status,
    headers: {
      ...baseHeaders(wire),
      ...headers,
      "Content-Type":
        "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
    },
    body: JSON.stringify(body),
  };
}

export function textResponse(
  status: number,
  body: string,
  wire: WireContext,
  headers: Record<string, string> = {},
): HttpResponseInit {
  return {
    status,
    headers: { ...baseHeaders(wire), ...headers, "Content-Type": "text/plain;charset=utf-8" },
    body,
  };
}

export function emptyResponse(
  status: number,
  wire: WireContext,
  headers: Record<string, string> = {},
): HttpResponseInit {
  return { status, headers: { ...baseHeaders(wire), ...headers } };
}

function isJsonMediaType(contentType: string | null): boolean {
  if (!contentType) return false;
  const [type, ...params] = contentType.split(";").map((p) => p.trim().toLowerCase());
  if (type !== "application/json") return false;
  return params.every((p) => !p.startsWith("charset=") || /^charset="?utf-8"?$/.test(p));
}

async function readBounded(request: HttpRequest, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new GraphError(413, ErrorCode.invalidRequest, `The request body is larger than ${maxBytes} bytes.`);
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge();
  if (!request.body) return new Uint8Array();
  const reader = (request.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/**
 * Reads a JSON body within bounds: 415 unless it is JSON in UTF-8, 413 past
 * the size limit (checked before parsing), 400 when it is not well-formed,
 * nests too deeply, repeats a property name, holds a lone surrogate or uses
 * keys that could pollute prototypes.
 */
export async function readJsonBody(request: HttpRequest, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  if (!isJsonMediaType(request.headers.get("content-type"))) {
    throw new GraphError(415, ErrorCode.notSupported, "The request body must be JSON: Content-Type: application/json.");
  }
  const bytes = await readBounded(request, maxBytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw badRequest("The request body is not valid UTF-8.");
  }
  if (text.trim() === "") {
    // The Functions host does not pass a chunked body (no Content-Length) to a Node.js function: say so, rather
    // than call the body missing.
    if (/\bchunked\b/i.test(request.headers.get("transfer-encoding") ?? "")) {
      throw new GraphError(
        411,
        ErrorCode.invalidRequest,
        "The request body was sent chunked (Transfer-Encoding: chunked), which the Azure Functions host does not pass on: send it with a Content-Length.",
        { target: "Transfer-Encoding" },
      );
    }
    throw badRequest("The request body is empty; a JSON object is required.");
  }
  let parsed: unknown;
  try {
    // No reviver: V8 parses iteratively, while a reviver recurses and overflows the stack on deep nesting.
    parsed = JSON.parse(text);
  } catch {
    throw badRequest("The request body is not well-formed JSON.");
  }
  checkJsonStructure(text);
  return parsed;
}

/** How deeply objects and arrays may nest in a request body; a valid operation needs 2. */
export const MAX_BODY_DEPTH = 32;
/** In a `u` regex a surrogate pair is one code point, so only a lone surrogate matches. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Walks the tokens of a body JSON.parse has already accepted (so no grammar
 * checks are needed) and refuses what JSON.parse lets through silently:
 * duplicate property names (JSON.parse keeps the last; OData readers refuse
 * them, and so do we), property names that could pollute prototypes, strings
 * that are not well-formed UTF-16 (lone surrogates), and nesting deeper than
 * MAX_BODY_DEPTH. Iterative, so nesting cannot overflow the stack.
 */
export function checkJsonStructure(text: string, subject = "The request body"): void {
  const objects: Array<Set<string> | undefined> = [];
  const path: string[] = [];
  const polluting = new Set<string>();
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "{" || ch === "[") {
      objects.push(ch === "{" ? new Set() : undefined);
      path.push("");
      if (objects.length > MAX_BODY_DEPTH) {
        throw badRequest(`${subject} nests objects or arrays deeper than ${MAX_BODY_DEPTH} levels.`);
      }
    } else if (ch === "}" || ch === "]") {
      objects.pop();
      path.pop();
    } else if (ch === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      const value = JSON.parse(text.slice(i, end + 1)) as string;
      if (LONE_SURROGATE.test(value)) {
        throw loneSurrogate(subject);
      }
      let next = end + 1;
      while (text[next] === " " || text[next] === "\t" || text[next] === "\n" || text[next] === "\r") next++;
      const keys = objects[objects.length - 1];
      if (keys && text[next] === ":") {
        path[path.length - 1] = value;
        const target = path.filter((p) => p !== "").join(".");
        if (keys.has(value)) {
          throw badRequest(`${subject} names the property '${target}' more than once.`, {
            target,
            details: [{ code: "duplicateProperty", target, message: `'${target}' appears more than once.` }],
          });
        }
        keys.add(value);
        if (FORBIDDEN_KEYS.has(value)) polluting.add(value);
      }
      i = end;
    }
  }
  if (polluting.size > 0) throw forbiddenNames(subject, polluting);
}

const loneSurrogate = (subject: string) =>
  badRequest(`${subject} contains a string that is not valid Unicode (a lone surrogate).`);

const forbiddenNames = (subject: string, names: ReadonlySet<string>) =>
  badRequest(`${subject} uses a forbidden property name: ${[...names].join(", ")}.`, {
    details: [...names].map((k) => ({ code: "forbiddenProperty", target: k, message: `'${k}' is not allowed.` })),
  });

/**
 * The checks of `checkJsonStructure` that a value already parsed still allows: nesting, lone surrogates (in names
 * and strings) and property names that could pollute prototypes. For JSON that arrives parsed (the Functions host
 * parses queue messages), whose duplicate names JSON.parse has already dropped. Iterative.
 */
export function checkJsonValue(value: unknown, subject: string): void {
  const polluting = new Set<string>();
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const { value: item, depth } = pending.pop()!;
    if (typeof item === "string") {
      if (LONE_SURROGATE.test(item)) throw loneSurrogate(subject);
    } else if (typeof item === "object" && item !== null) {
      if (depth >= MAX_BODY_DEPTH) {
        throw badRequest(`${subject} nests objects or arrays deeper than ${MAX_BODY_DEPTH} levels.`);
      }
      for (const [key, element] of Object.entries(item)) {
        if (!Array.isArray(item)) {
          if (LONE_SURROGATE.test(key)) throw loneSurrogate(subject);
          if (FORBIDDEN_KEYS.has(key)) polluting.add(key);
        }
        pending.push({ value: element, depth: depth + 1 });
      }
    }
  }
  if (polluting.size > 0) throw forbiddenNames(subject, polluting);
}

/** The absolute URL of a path under the API, e.g. `/v1.0/teams/...`. */
export function absoluteUrl(wire: WireContext, path: string): string {
  return `${wire.baseUrl}${path}`;
}

// ---------------------------------------------------------------- entity tags

/** The opaque part of an entity tag: `W/"x"` and `"x"` both give `x`. Cosmos's own `_etag` may or may not be quoted. */
export function opaqueTag(etag: string): string {
  return etag.replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
}

/** The ETag header for a stored ETag: always a quoted strong entity tag. */
export function etagHeader(storedEtag: string): string {
  return `"${opaqueTag(storedEtag)}"`;
}

export type Preconditions = "*" | ReadonlyArray<{ readonly tag: string; readonly weak: boolean }>;

const ENTITY_TAG = /^\s*(W\/)?"([\x21\x23-\x7e]*)"\s*$/;

/** Parses If-Match / If-None-Match: `*` or a list of entity tags; a 400 for anything else. */
export function parsePreconditions(name: string, header: string | null): Preconditions | undefined {
  if (header === null) return undefined;
  if (header.trim() === "*") return "*";
  const tags = header.split(",").map((part) => ENTITY_TAG.exec(part));
  if (tags.length === 0 || tags.some((m) => m === null) || header.length > 1024) {
    throw badRequest(`The ${name} header must be * or a list of quoted entity tags, like "abc".`, {
      details: [{ code: "invalidHeader", target: name, message: "Malformed entity tag." }],
    });
  }
  return tags.map((m) => ({ tag: m![2]!, weak: m![1] !== undefined }));
}

/** If-Match uses strong comparison (a weak tag never matches); If-None-Match uses weak comparison. */
export function preconditionMatches(preconditions: Preconditions, storedEtag: string, strong: boolean): boolean {
  if (preconditions === "*") return true;
  const current = opaqueTag(storedEtag);
  return preconditions.some((p) => p.tag === current && (!strong || !p.weak));
}
