/**
 * Graph's wire conventions: request ids, the Prefer header, JSON bodies read
 * within bounds, error bodies and the URLs a response points at.
 */
import { isUtf8 } from "node:buffer";
import { randomUUID } from "node:crypto";
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { VISIBLE_ASCII_ID } from "../ids.js";
import { ErrorCode, GraphError, type ErrorDetail, badRequest } from "./graphError.js";

/** The largest request body accepted; a valid operation is well under 8 KB. */
export const MAX_BODY_BYTES = 32 * 1024;
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
    clientRequestId: clientRequestId && VISIBLE_ASCII_ID.test(clientRequestId) ? clientRequestId : randomUUID(),
    baseUrl: publicBaseUrl ?? originOf(request.url),
    preferences: parsePrefer(request.headers.get("prefer")),
  };
}

/**
 * The origin of a request's URL. The URL a request object gives is already serialised by the WHATWG parser (and
 * never has credentials), so for http and https its origin is everything before the path.
 */
function originOf(url: string): string {
  const scheme = url.startsWith("https://") ? 8 : url.startsWith("http://") ? 7 : 0;
  if (scheme === 0) return new URL(url).origin;
  const path = url.indexOf("/", scheme);
  return path === -1 ? url : url.slice(0, path);
}

/** The wire context of a request the host refuses before any function sees it: only its ids are known. */
export function refusalWireContext(clientRequestId: string | undefined, requestId: string): WireContext {
  return {
    requestId,
    clientRequestId: clientRequestId && VISIBLE_ASCII_ID.test(clientRequestId) ? clientRequestId : randomUUID(),
    baseUrl: "",
    preferences: parsePrefer(null),
  };
}

const NO_PREFERENCES: Preferences = Object.freeze({ returnMinimal: false, includeUnknownEnumMembers: false });

/** RFC 7240: preferences a server does not understand are ignored, not errors. */
export function parsePrefer(header: string | null): Preferences {
  if (header === null || header === "") return NO_PREFERENCES;
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

const JSON_CONTENT_TYPE =
  "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

export function jsonResponse(
  status: number,
  body: unknown,
  wire: WireContext,
  headers: Record<string, string> = {},
): HttpResponseInit {
  const all = Object.assign(baseHeaders(wire), headers);
  all["Content-Type"] = JSON_CONTENT_TYPE;
  return { status, headers: all, body: JSON.stringify(body) };
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
  return { status, headers: Object.assign(baseHeaders(wire), headers) };
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
  const expected = declared === null ? undefined : Number(declared);
  let first: Uint8Array | undefined;
  let chunks: Uint8Array[] | undefined;
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    // Most bodies arrive in one chunk: kept as it is, without a copy.
    if (first === undefined) first = value;
    else (chunks ??= [first]).push(value);
    // All the declared bytes are here: no need to wait for the stream to say it has ended.
    if (size === expected) break;
  }
  reader.releaseLock();
  return chunks ? Buffer.concat(chunks) : (first ?? new Uint8Array());
}

/**
 * UTF-8 decoding as `TextDecoder("utf-8", { fatal: true })` does it (one leading byte-order mark dropped), through
 * Buffer, whose strings of ASCII are one byte per character: JSON.parse and the structure scan read them faster.
 */
function decodeUtf8(bytes: Uint8Array): string | undefined {
  if (!isUtf8(bytes)) return undefined;
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return Buffer.from(bytes.buffer, bytes.byteOffset + bom, bytes.byteLength - bom).toString("utf8");
}

const emptyBody = () => badRequest("The request body is empty; a JSON object is required.");

/**
 * Reads a JSON body within bounds: 415 unless it is JSON in UTF-8, 413 past
 * the size limit (checked before parsing), then `parseJsonBody`.
 */
export async function readJsonBody(request: HttpRequest, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  if (!isJsonMediaType(request.headers.get("content-type"))) {
    throw new GraphError(415, ErrorCode.notSupported, "The request body must be JSON: Content-Type: application/json.");
  }
  return parseJsonBody(await readBounded(request, maxBytes), () =>
    // The Functions host does not pass a chunked body (no Content-Length) to a Node.js function: say so, rather
    // than call the body missing.
    /\bchunked\b/i.test(request.headers.get("transfer-encoding") ?? "")
      ? new GraphError(
          411,
          ErrorCode.invalidRequest,
          "The request body was sent chunked (Transfer-Encoding: chunked), which the Azure Functions host does not pass on: send it with a Content-Length.",
          { target: "Transfer-Encoding" },
        )
      : emptyBody(),
  );
}

/**
 * The body guard: 400 unless the bytes are UTF-8 holding well-formed JSON that does not nest too deeply, repeat a
 * property name, hold a lone surrogate or use keys that could pollute prototypes; the parsed value otherwise.
 * `empty` is the error for a body with nothing in it.
 */
export function parseJsonBody(bytes: Uint8Array, empty: () => GraphError = emptyBody): unknown {
  const text = decodeUtf8(bytes);
  if (text === undefined) throw badRequest("The request body is not valid UTF-8.");
  if (text.trim() === "") throw empty();
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
/** Any UTF-16 surrogate code unit (no `u` flag: code units, not code points). */
const SURROGATE = /[\ud800-\udfff]/g;

const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d; // }
const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const COLON = 0x3a; // :

function isJsonWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

function indexOrEnd(index: number, length: number): number {
  return index === -1 ? length : index;
}

/** The quote that ends the string opening at `open`: the first one not escaped, i.e. after an even run of backslashes. */
function closingQuote(text: string, open: number, firstBackslash: number): number {
  let end = indexOrEnd(text.indexOf('"', open + 1), text.length);
  if (firstBackslash > end) return end;
  for (;;) {
    let before = end - 1;
    while (before > open && text.charCodeAt(before) === BACKSLASH) before--;
    if ((end - 1 - before) % 2 === 0 || end >= text.length) return end;
    end = indexOrEnd(text.indexOf('"', end + 1), text.length);
  }
}

/**
 * Walks the tokens of a body JSON.parse has already accepted (so no grammar
 * checks are needed) and refuses what JSON.parse lets through silently:
 * duplicate property names (JSON.parse keeps the last; OData readers refuse
 * them, and so do we), property names that could pollute prototypes, strings
 * that are not well-formed UTF-16 (lone surrogates), and nesting deeper than
 * MAX_BODY_DEPTH. Iterative, so nesting cannot overflow the stack; one pass over
 * the characters, decoding only the strings that hold an escape or a surrogate.
 */
export function checkJsonStructure(text: string, subject = "The request body"): void {
  const objects: Array<Set<string> | undefined> = [];
  const path: string[] = [];
  let polluting: Set<string> | undefined;
  const length = text.length;
  // Where the next backslash and the next surrogate are (length: none): a string before both is its own text.
  let backslash = -1;
  let surrogate = -1;
  for (let i = 0; i < length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === OPEN_OBJECT || ch === OPEN_ARRAY) {
      objects.push(ch === OPEN_OBJECT ? new Set() : undefined);
      path.push("");
      if (objects.length > MAX_BODY_DEPTH) {
        throw badRequest(`${subject} nests objects or arrays deeper than ${MAX_BODY_DEPTH} levels.`);
      }
    } else if (ch === CLOSE_OBJECT || ch === CLOSE_ARRAY) {
      objects.pop();
      path.pop();
    } else if (ch === QUOTE) {
      if (backslash <= i) backslash = indexOrEnd(text.indexOf("\\", i + 1), length);
      if (surrogate <= i) {
        SURROGATE.lastIndex = i + 1;
        surrogate = SURROGATE.test(text) ? SURROGATE.lastIndex - 1 : length;
      }
      const end = closingQuote(text, i, backslash);
      // Only a string with an escape or a surrogate can differ from its text or hold a lone surrogate.
      let value: string | undefined;
      if (backslash < end || surrogate < end) {
        value = JSON.parse(text.slice(i, end + 1)) as string;
        if (LONE_SURROGATE.test(value)) throw loneSurrogate(subject);
      }
      let next = end + 1;
      while (isJsonWhitespace(text.charCodeAt(next))) next++;
      const keys = objects[objects.length - 1];
      if (keys && text.charCodeAt(next) === COLON) {
        value ??= text.slice(i + 1, end);
        path[path.length - 1] = value;
        if (keys.has(value)) {
          const target = path.filter((p) => p !== "").join(".");
          throw badRequest(`${subject} names the property '${target}' more than once.`, {
            target,
            details: [{ code: "duplicateProperty", target, message: `'${target}' appears more than once.` }],
          });
        }
        keys.add(value);
        if (FORBIDDEN_KEYS.has(value)) (polluting ??= new Set()).add(value);
      }
      i = end;
    }
  }
  if (polluting) throw forbiddenNames(subject, polluting);
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
  const start = etag.startsWith("W/") ? 2 : 0;
  const quoted = etag.length - start >= 2 && etag[start] === '"' && etag.endsWith('"') && !LINE_TERMINATOR.test(etag);
  return quoted ? etag.slice(start + 1, -1) : start === 0 ? etag : etag.slice(start);
}

/** Where the earlier `/^"(.*)"$/` stopped matching: `.` matches no line terminator. */
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

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
