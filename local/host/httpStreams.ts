/**
 * HTTP streams: when the app turns them on, the host forwards the request to the worker's own HTTP server (its
 * HttpUri) and relays the worker's answer, as the host's HTTP proxying (YARP) does.
 */
import {
  Agent,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from "node:http";
import { pipeline } from "node:stream/promises";

/**
 * Headers a proxy never forwards (RFC 9110 §7.6.1, and YARP's list): they concern one connection. Host is replaced by
 * the destination's, as YARP's default transform does.
 */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

/** Connections to the worker's HTTP proxy, kept open as the host's SocketsHttpHandler keeps them. */
const workerAgent = new Agent({ keepAlive: true });

/**
 * The request the host forwards to the worker's HttpUri (its `DefaultHttpProxyService`, YARP's `IHttpForwarder` with
 * the default transforms): the same method, path and query, every header but the hop-by-hop ones and Host,
 * X-Forwarded-For, -Proto and -Host set, and the invocation id in `x-ms-invocation-id`, by which the worker pairs it
 * with the invocation request.
 */
export function forwardedHeaders(req: IncomingMessage, host: string, invocationId: string): OutgoingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || name.startsWith("x-forwarded-")) continue;
    const previous = headers[name];
    headers[name] = previous === undefined ? raw[i + 1]! : [previous, raw[i + 1]!].flat();
  }
  headers["x-forwarded-for"] = req.socket.remoteAddress ?? "";
  headers["x-forwarded-proto"] = "http";
  headers["x-forwarded-host"] = host;
  headers["x-ms-invocation-id"] = invocationId;
  return headers;
}

/**
 * Forwards a request to the worker's HTTP proxy and resolves with the worker's answer; the host sends the invocation
 * request beside it, and the worker's model writes the function's response on this connection.
 */
export function forwardToWorker(
  httpUri: string,
  req: IncomingMessage,
  pathAndQuery: string,
  headers: OutgoingHttpHeaders,
  body: Buffer | undefined,
): { answer: Promise<IncomingMessage>; abort: () => void } {
  let out: ClientRequest | undefined;
  const answer = new Promise<IncomingMessage>((resolve, reject) => {
    out = httpRequest(
      new URL(pathAndQuery.replace(/^\/+/, ""), httpUri),
      {
        method: req.method,
        headers: body ? { ...headers, "content-length": String(body.length) } : headers,
        agent: workerAgent,
      },
      resolve,
    );
    out.once("error", reject);
    out.end(body);
  });
  return { answer, abort: () => out?.destroy(new Error("The invocation failed.")) };
}

/** The worker's answer written to the caller as YARP relays it: status, the headers but hop-by-hop ones, the body. */
export async function relayAnswer(answer: IncomingMessage, res: ServerResponse): Promise<number> {
  const raw = answer.rawHeaders;
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    const previous = headers[name];
    headers[name] = previous === undefined ? raw[i + 1]! : [previous, raw[i + 1]!].flat();
  }
  const status = answer.statusCode ?? 502;
  res.writeHead(status, headers);
  await pipeline(answer, res);
  return status;
}
