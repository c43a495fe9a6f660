/**
 * What the Functions host (Kestrel) refuses before any function runs, answered in Graph's error shape with a
 * `request-id`: a request line, header or Host it cannot parse (400), headers over 32 KB (431), an Authorization
 * header broken over several lines (401, saying what it held).
 */
import { randomUUID } from "node:crypto";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { authorizationProblem, parseAuthorization, unauthenticated } from "../../shared/auth/tokens.js";
import { graphError, type GraphError, type GraphErrorKind } from "../../shared/http/graphError.js";
import { errorResponse } from "../../shared/http/responses.js";
import { refusalWireContext } from "../../shared/http/wireContext.js";

export interface Refusal {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function refusal(kind: GraphErrorKind, message: string, clientRequestId?: string): Refusal {
  return graphRefusal(graphError(kind, message), clientRequestId);
}

function graphRefusal(error: GraphError, clientRequestId?: string): Refusal {
  const response = errorResponse(error, refusalWireContext(clientRequestId, randomUUID()));
  const body = response.body as string;
  const headers = {
    ...(response.headers as Record<string, string>),
    "Content-Length": String(Buffer.byteLength(body)),
  };
  return { status: error.status, headers, body };
}

/** A refusal written straight to a socket, for requests node:http could not parse. */
export function rawRefusal(socket: Socket, answer: Refusal): void {
  const head = Object.entries({ ...answer.headers, Connection: "close" })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  socket.end(`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n${head}\r\n${answer.body}`);
}

/**
 * The Authorization header of a request node:http could not parse, as its sender meant it, when its line feeds are
 * what broke the request: a token captured with the lines printed before it (npm's script banner) reaches the wire
 * as an Authorization value running over several lines.
 */
function brokenAuthorization(packet: Buffer | undefined): string | undefined {
  const value = packet && /\r\nauthorization:([^\r]*)/i.exec(packet.toString("latin1"))?.[1];
  return value?.includes("\n") ? value : undefined;
}

/**
 * What node:http's parser errors mean, as Kestrel answers them; an Authorization header broken over several lines
 * gets the 401 that says what it held and why (`local`: the app trusts the development key).
 */
export function parserRefusal(error: NodeJS.ErrnoException & { rawPacket?: Buffer }, local: boolean): Refusal {
  const authorization = brokenAuthorization(error.rawPacket);
  if (authorization !== undefined) {
    const parsed = parseAuthorization(authorization);
    const problem = "problem" in parsed ? parsed.problem : "severalWords";
    const { description, message } = authorizationProblem(problem, authorization, local);
    return graphRefusal(unauthenticated(description, undefined, message));
  }
  if (error.code === "HPE_HEADER_OVERFLOW") {
    return refusal("headersTooLarge", "The request headers are larger than the host accepts (32 KB).");
  }
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT" || error.code === "ERR_HTTP_HEADERS_TIMEOUT") {
    return refusal("requestTimeout", "The request did not arrive in time.");
  }
  return refusal("badRequest", "The request line or a header is malformed.");
}

/** RFC 3986 `host [ ":" port ]`, the form Kestrel accepts in a Host header, and one a URL can be built on. */
const HOST_HEADER = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=]+)(?::\d{0,5})?$/;

/** Hosts already found valid (a client sends the same one on every request): checked once each. */
export const validHosts = new Set<string>();

export function validHost(host: string | undefined): host is string {
  if (host === undefined) return false;
  if (validHosts.has(host)) return true;
  const valid = HOST_HEADER.test(host) && URL.canParse(`http://${host}/`);
  if (valid && validHosts.size < 64) validHosts.add(host);
  return valid;
}
