/**
 * Request bodies read within bounds: 415 unless the body is JSON, 413 past the size limit (declared or counted, so
 * no more than the limit is ever held), 411 for a chunked body the Functions host would not pass on; then the body
 * guard (`jsonBody.ts`).
 */
import type { HttpRequest } from "@azure/functions";
import { graphError } from "./graphError.js";
import { emptyBody, parseJsonBody } from "./jsonBody.js";
import { MAX_BODY_DEPTH } from "./jsonStructure.js";
import { isJsonMediaType } from "./mediaTypes.js";

/** The largest request body accepted; a valid operation is well under 8 KB. */
export const MAX_BODY_BYTES = 32 * 1024;

/** The body's bytes, refused with a 413 once there are more than `maxBytes` of them (or more are declared). */
export async function readBounded(request: HttpRequest, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () => graphError("payloadTooLarge", `The request body is larger than ${maxBytes} bytes.`);
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
 * Reads a JSON body within bounds: 415 unless it is JSON in UTF-8, 413 past
 * the size limit (checked before parsing), then `parseJsonBody` (nesting at most `maxDepth`).
 */
export async function readJsonBody(
  request: HttpRequest,
  maxBytes = MAX_BODY_BYTES,
  maxDepth = MAX_BODY_DEPTH,
): Promise<unknown> {
  if (!isJsonMediaType(request.headers.get("content-type"))) {
    throw graphError("unsupportedMediaType", "The request body must be JSON: Content-Type: application/json.");
  }
  const empty = () =>
    // The Functions host does not pass a chunked body (no Content-Length) to a Node.js function: say so, rather
    // than call the body missing.
    /\bchunked\b/i.test(request.headers.get("transfer-encoding") ?? "")
      ? graphError(
          "lengthRequired",
          "The request body was sent chunked (Transfer-Encoding: chunked), which the Azure Functions host does not pass on: send it with a Content-Length.",
          { target: "Transfer-Encoding" },
        )
      : emptyBody();
  return parseJsonBody(await readBounded(request, maxBytes), empty, maxDepth);
}
