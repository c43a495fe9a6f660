/**
 * Entity tags: the `ETag` header of a stored version, and the If-Match / If-None-Match preconditions a request
 * sets on it (RFC 9110, sections 8.8.3 and 13.1).
 */
import { badRequest } from "./graphError.js";

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
