/**
 * The body guard: 400 unless the bytes are UTF-8 holding well-formed JSON that passes the structure checks
 * (`jsonStructure.ts`); the parsed value otherwise. JSON.parse does the parsing, the structure scan one more pass
 * over the text.
 */
import { isUtf8 } from "node:buffer";
import { badRequest, type GraphError } from "./graphError.js";
import { checkJsonStructure, MAX_BODY_DEPTH } from "./jsonStructure.js";

/**
 * UTF-8 decoding as `TextDecoder("utf-8", { fatal: true })` does it (one leading byte-order mark dropped), through
 * Buffer, whose strings of ASCII are one byte per character: JSON.parse and the structure scan read them faster.
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  if (!isUtf8(bytes)) return undefined;
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return Buffer.from(bytes.buffer, bytes.byteOffset + bom, bytes.byteLength - bom).toString("utf8");
}

/** The error for a body with nothing in it. */
export const emptyBody = (): GraphError => badRequest("The request body is empty; a JSON object is required.");

/**
 * The body guard: 400 unless the bytes are UTF-8 holding well-formed JSON that does not nest too deeply, repeat a
 * property name, hold a lone surrogate or use keys that could pollute prototypes; the parsed value otherwise.
 * `empty` is the error for a body with nothing in it; `maxDepth` how deeply it may nest.
 */
export function parseJsonBody(
  bytes: Uint8Array,
  empty: () => GraphError = emptyBody,
  maxDepth = MAX_BODY_DEPTH,
): unknown {
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
  checkJsonStructure(text, undefined, maxDepth);
  return parsed;
}
