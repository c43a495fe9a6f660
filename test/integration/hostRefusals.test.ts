/**
 * What the local host refuses before any function runs, over raw sockets: a
 * malformed request line, header or Host, a path no function serves, a body
 * over the host's limit (told by Content-Length, or found while reading a
 * chunked body), headers or a body that stop arriving. Each refusal is a
 * Graph error with a `request-id`; the rest of a refused body is read and
 * dropped (so its sender reads the answer), and a stalled one ends the
 * connection.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, expectGraphError } from "../support/http.js";
import { startStack, type Stack } from "../support/stack.js";

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** Whether the server closed the connection after answering. */
  readonly closed: boolean;
}

/** Parses one HTTP response from the bytes received so far, or undefined while it is incomplete. */
function parse(received: Buffer): Omit<RawAnswer, "closed"> | undefined {
  const end = received.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const [statusLine, ...lines] = received.subarray(0, end).toString("latin1").split("\r\n");
  const headers = Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]),
  );
  const body = received.subarray(end + 4);
  if (body.length < Number(headers["content-length"] ?? 0)) return undefined;
  return { status: Number(statusLine!.split(" ")[1]), headers, body: body.toString("utf8") };
}

/**
 * Sends `chunks` on a fresh connection, one after the other, and leaves it open; reads one answer, and when the
 * answer says `Connection: close`, waits for the server to close the connection.
 */
function raw(port: number, chunks: Array<string | Buffer>): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, "127.0.0.1");
    let received = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const answer = parse(received);
      if (answer && answer.headers.connection?.toLowerCase() !== "close") {
        socket.destroy();
        resolve({ ...answer, closed: false });
      }
    });
    socket.on("close", () => {
      const answer = parse(received);
      if (answer) resolve({ ...answer, closed: true });
      else reject(new Error(`no complete answer: ${JSON.stringify(received.toString("latin1").slice(0, 500))}`));
    });
    // The server may close while a body is still being sent: what it answered before counts.
    socket.on("error", () => undefined);
    socket.once("connect", () => {
      void (async () => {
        for (const chunk of chunks) {
          if (socket.destroyed) return;
          await new Promise<void>((done) => socket.write(chunk, () => done()));
        }
      })();
    });
  });
}

/** A raw answer as the ApiResponse the Graph error checks read. */
function asResponse(answer: RawAnswer) {
  return {
    status: answer.status,
    headers: new Headers(answer.headers),
    text: answer.body,
    json: answer.body ? JSON.parse(answer.body) : undefined,
  };
}

describe("refusals of the local host", () => {
  let stack: Stack;
  let port: number;
  beforeAll(async () => {
    stack = await startStack();
    port = Number(new URL(stack.baseUrl).port);
  });
  afterAll(() => stack?.stop());

  it.each([
    ["a Host with a space", "Host: exa mple\r\n"],
    ["a Host with a path", "Host: example/x\r\n"],
    ["an unclosed IPv6 Host", "Host: [::1\r\n"],
    ["no Host", ""],
    ["two Hosts", "Host: a\r\nHost: b\r\n"],
  ])("answers %s with Graph's 400, not a 500", async (_, host) => {
    const answer = await raw(port, [`GET /v1.0/health HTTP/1.1\r\n${host}client-request-id: mine\r\n\r\n`]);
    const error = expectGraphError(asResponse(answer), 400, "invalidRequest");
    expect(error.message).toContain("Host");
    expect(error.innerError["client-request-id"]).toBe("mine");
  });

  it.each([
    ["a malformed request line", "GET /v1.0/health HTTP/9.9\r\nHost: a\r\n\r\n"],
    ["garbage", "HELLO\r\n\r\n"],
    ["a header name with a space", "GET /v1.0/health HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n"],
    ["a header without a colon", "GET /v1.0/health HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n"],
  ])("answers %s with Graph's 400 and closes the connection", async (_, request) => {
    const answer = await raw(port, [request]);
    expectGraphError(asResponse(answer), 400, "invalidRequest");
    expect(answer.closed).toBe(true);
  });

  it("answers headers over 32 KB with Graph's 431", async () => {
    const answer = await raw(port, [`GET /v1.0/health HTTP/1.1\r\nHost: a\r\nx-big: ${"a".repeat(40_000)}\r\n\r\n`]);
    expectGraphError(asResponse(answer), 431, "invalidRequest");
  });

  it("answers a path outside every function with Graph's 404", async () => {
    for (const path of ["/", "/api/health", "/v1.0x/health"]) {
      expectGraphError(await call(`http://127.0.0.1:${port}${path}`), 404, "itemNotFound");
    }
  });

  it("refuses a body over the limit from its Content-Length, before it is sent", async () => {
    const answer = await raw(port, [
      "POST /v1.0/teams/x/operations HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n",
    ]);
    expectGraphError(asResponse(answer), 413, "invalidRequest");
    // The connection stays open to read and drop what the client still sends, so that it reads this answer.
    expect(answer.closed).toBe(false);
  });

  it("lets a client that sends a whole body over the limit read the 413", async () => {
    const res = await call(`${stack.baseUrl}/teams/x/operations`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      rawBody: new Uint8Array(5_000_000),
    });
    expectGraphError(res, 413, "invalidRequest");
  });

  it("refuses a body over the limit before sending 100 Continue", async () => {
    const answer = await raw(port, [
      "POST /v1.0/teams/x/operations HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5000000\r\n\r\n",
    ]);
    expectGraphError(asResponse(answer), 413, "invalidRequest");
  });

  it("cuts off a chunked body as soon as it passes the limit, without waiting for its end", async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const piece = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]);
    // Five 1 MiB chunks pass the 4 MiB limit; the final zero-length chunk is never sent.
    const answer = await raw(port, [
      "POST /v1.0/teams/x/operations HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n",
      ...Array.from({ length: 5 }, () => piece),
    ]);
    expectGraphError(asResponse(answer), 413, "invalidRequest");
  });

  it("gives up on headers or a body that stop arriving, with Graph's 408", { timeout: 30_000 }, async () => {
    const [headers, body] = await Promise.all([
      raw(port, ["GET /v1.0/health HTTP/1.1\r\nHost: a\r\n"]),
      raw(port, [
        "POST /v1.0/teams/x/operations HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n",
        '{"operationType":',
      ]),
    ]);
    expectGraphError(asResponse(headers), 408, "invalidRequest");
    expect(headers.closed).toBe(true);
    expectGraphError(asResponse(body), 408, "invalidRequest");
    expect(body.closed).toBe(true);
  });

  it("still serves a well-formed request on the same server", async () => {
    const res = await call(`${stack.baseUrl}/health`);
    expect(res.status).toBe(200);
  });
});
