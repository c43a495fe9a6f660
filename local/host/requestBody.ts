/** Request bodies read within the host's bounds: never more than the limit held, and given up when they stall. */
import type { IncomingMessage } from "node:http";

/** How long a body may stop arriving before the request is refused (408). */
const BODY_IDLE_TIMEOUT_MS = 5_000;

type Body = { readonly bytes: Buffer } | { readonly refused: "tooLarge" | "stalled" | "aborted" };

/**
 * Reads a request body without ever holding more than `limit` bytes, and gives up when it stops arriving for
 * BODY_IDLE_TIMEOUT_MS.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (body: Body) => {
      clearTimeout(idle);
      req.removeAllListeners("data");
      if (!("bytes" in body)) req.pause();
      resolve(body);
    };
    // One timer, pushed back as each chunk arrives.
    const idle = setTimeout(() => finish({ refused: "stalled" }), BODY_IDLE_TIMEOUT_MS);
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return finish({ refused: "tooLarge" });
      chunks.push(chunk);
      idle.refresh();
    });
    req.once("end", () => finish({ bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }));
    req.once("aborted", () => finish({ refused: "aborted" }));
    req.once("error", () => finish({ refused: "aborted" }));
  });
}

/** The most of a refused body that is read (and dropped) so that its sender gets to read the answer. */
const DISCARD_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * Reads and drops the rest of a refused request's body, so that a client still sending it reads the refusal instead
 * of a broken pipe, and the connection can serve the next request; a body past DISCARD_LIMIT_BYTES or one that
 * stops arriving ends the connection.
 */
export function discard(req: IncomingMessage): void {
  let dropped = 0;
  const idle = setTimeout(() => req.socket.destroy(), BODY_IDLE_TIMEOUT_MS);
  req.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DISCARD_LIMIT_BYTES) req.socket.destroy();
    else idle.refresh();
  });
  req.once("end", () => clearTimeout(idle));
  req.once("close", () => clearTimeout(idle));
  req.resume();
}
