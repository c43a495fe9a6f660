/**
 * The local runner: serves the app's own HTTP functions on
 * http://127.0.0.1:7071/v1.0, as `func start` would, for machines where Azure
 * Functions Core Tools cannot be installed. It plays the Functions host: it
 * routes each request as the host's routing does, refuses what the host
 * refuses before any function runs (in Graph's error shape), turns the request
 * into the invocation request the host sends the worker, has the worker
 * (functionsHost.ts, so the app's own programming model and hooks) run it, and
 * writes the worker's HTTP response as the host writes it. An app with HTTP
 * streams gets the request forwarded to its worker's proxy instead, and its
 * answer relayed, as the host's HTTP proxying does. With no
 * COSMOS_ENDPOINT it starts the embedded store; tokens come from
 * `npm run --silent token`.
 */
import { randomUUID } from "node:crypto";
import { parseTraceParent } from "@opentelemetry/core";
import { RandomIdGenerator } from "@opentelemetry/sdk-trace-base";
import {
  Agent,
  createServer,
  type ClientRequest,
  request as httpRequest,
  STATUS_CODES,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { pipeline } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import { COSMOS_DEFAULTS, misspeltSettings, SETTINGS } from "../shared/config.js";
import { authorizationProblem, parseAuthorization, unauthenticated } from "../shared/auth/tokens.js";
import { graphError, type GraphError, type GraphErrorKind } from "../shared/http/graphError.js";
import {
  compileRouteTemplate,
  decodeRoutePath,
  routeValues,
  type CompiledRouteTemplate,
} from "../shared/http/routeTemplate.js";
import { errorResponse } from "../shared/http/responses.js";
import { refusalWireContext } from "../shared/http/wireContext.js";
import type * as DataLock from "../scripts/data-lock.js";
import { ensureDevCertificate } from "./devCertificate.js";
import { DEV_AUDIENCE, devDir, ensureDevKeys, ensureNotificationSigningKey, PROJECT_ROOT } from "./devIdentity.js";
import { ensureLocalContainer, startEmbeddedCosmos, type EmbeddedCosmos } from "./embeddedCosmos.js";
import { PortTakenError, startAzuriteQueue, type Azurite } from "./azurite.js";
import {
  invokeFunction,
  loadFunctionApp,
  routePrefix,
  setWorkerLog,
  terminateApp,
  workerHttpUri,
  type RegisteredFunction,
  type RpcHttpCookie,
  type RpcHttpData,
  type RpcInvocationRequest,
  type RpcNullableString,
  type RpcTypedData,
} from "./functionsHost.js";
import { readAppSettings, readRunnerSettings, RUNNER_SETTINGS } from "./runnerSettings.js";
import { QueueOutputs, resolveSetting, startTriggers, type Settings } from "./triggers.js";

/** The Functions host's FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, in bytes; unset, this runner's own limit. */
function bodyLimit(settings: Settings): number {
  const setting = Number(settings.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT);
  return Number.isSafeInteger(setting) && setting >= 0 ? setting : 4 * 1024 * 1024;
}

/** How long the request line and headers may take to arrive. */
const HEADERS_TIMEOUT_MS = 5_000;
/** How long a body may stop arriving before the request is cut off (Kestrel's grace period for its minimum rate). */
const BODY_IDLE_TIMEOUT_MS = 5_000;
/** The longest a whole request may take to arrive. */
const REQUEST_TIMEOUT_MS = 60_000;

interface Route extends CompiledRouteTemplate {
  readonly fn: RegisteredFunction;
  readonly methods: ReadonlySet<string>;
}

/** A function's route below the route prefix, as the host compiles it (`routeTemplate.ts`). */
function compileRoute(prefix: string, fn: RegisteredFunction): Route {
  const route = typeof fn.trigger.route === "string" ? fn.trigger.route : fn.name;
  const methods = (fn.trigger.methods as string[] | undefined) ?? ["GET", "POST"];
  return {
    fn,
    methods: new Set(methods.map((m) => m.toUpperCase())),
    ...compileRouteTemplate(`${prefix}/${route}`.replace(/^\/+/, "")),
  };
}

export function buildRoutes(prefix: string, functions: readonly RegisteredFunction[]): Route[] {
  return functions
    .filter((fn) => fn.trigger.type === "httpTrigger")
    .map((fn) => compileRoute(prefix, fn))
    .sort((a, b) => a.rank.localeCompare(b.rank));
}

// ---------------------------------------------------------------- refusals, in Graph's shape

interface Refusal {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function refusal(kind: GraphErrorKind, message: string, clientRequestId?: string): Refusal {
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
function rawRefusal(socket: Socket, answer: Refusal): void {
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
function parserRefusal(error: NodeJS.ErrnoException & { rawPacket?: Buffer }, local: boolean): Refusal {
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
const validHosts = new Set<string>();

function validHost(host: string | undefined): host is string {
  if (host === undefined) return false;
  if (validHosts.has(host)) return true;
  const valid = HOST_HEADER.test(host) && URL.canParse(`http://${host}/`);
  if (valid && validHosts.size < 64) validHosts.add(host);
  return valid;
}

// ---------------------------------------------------------------- the request, as the host sends it

function nullable(entries: Iterable<[string, string]>): Record<string, RpcNullableString> {
  const result: Record<string, RpcNullableString> = {};
  for (const [name, value] of entries) result[name] = { value };
  return result;
}

/** The values of one header, in order (what `headersDistinct[name]` gives, without building it for every header). */
function headerValues(raw: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) values.push(raw[i + 1]!);
  return values;
}

/** Every header once, its name lower-cased and its values joined by ',' (what `headersDistinct` joined gives). */
function nullableHeaders(raw: readonly string[]): Record<string, RpcNullableString> {
  const result: Record<string, RpcNullableString> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const entry = result[name];
    if (entry) entry.value = `${entry.value ?? ""},${raw[i + 1]!}`;
    else result[name] = { value: raw[i + 1]! };
  }
  return result;
}

/** ASP.NET's query collection: names compared without case, repeated values joined with ','. */
function queryOf(search: URLSearchParams): Array<[string, string]> {
  const byName = new Map<string, [string, string[]]>();
  for (const [name, value] of search) {
    const entry = byName.get(name.toLowerCase());
    if (entry) entry[1].push(value);
    else byName.set(name.toLowerCase(), [name, [value]]);
  }
  return [...byName.values()].map(([name, values]) => [name, values.join(",")]);
}

const ids = new RandomIdGenerator();

/** An incoming W3C trace parent is continued (a new span of its trace), as the host's activity does. */
function traceContextFor(req: IncomingMessage): NonNullable<RpcInvocationRequest["traceContext"]> {
  const header = req.headers.traceparent;
  const parent = typeof header === "string" ? parseTraceParent(header) : null;
  const flags = (parent?.traceFlags ?? 0).toString(16).padStart(2, "0");
  return {
    traceParent: `00-${parent?.traceId ?? ids.generateTraceId()}-${ids.generateSpanId()}-${flags}`,
    traceState: parent ? String(req.headers.tracestate ?? "") : "",
  };
}

/**
 * The host's `ToRpcHttp` with the worker's capabilities (nullable dictionaries, body only, raw bytes): lower-cased
 * header names with their values joined by ',', the query, the route values, and the body's bytes only when the
 * request gave a Content-Length: Azure's host never passes a chunked body to a Node.js function
 * (azure-functions-nodejs-library#171), and the app answers such a request with a 411 that says so.
 */
function rpcHttp(
  req: IncomingMessage,
  url: URL,
  query: Array<[string, string]>,
  params: Record<string, string>,
  body: Buffer | undefined,
): RpcHttpData {
  return {
    method: req.method ?? "GET",
    url: url.href,
    headers: {},
    query: {},
    params: {},
    nullableHeaders: nullableHeaders(req.rawHeaders),
    nullableQuery: nullable(query),
    nullableParams: nullable(Object.entries(params)),
    ...(body && body.length > 0 && req.headers["content-length"] !== undefined ? { body: { bytes: body } } : {}),
  };
}

// ---------------------------------------------------------------- the response, as the host writes it

/** .NET's Uri.EscapeDataString: everything but A-Z a-z 0-9 - _ . ~ is percent-encoded (a lone surrogate as U+FFFD). */
function escapeDataString(value: string): string {
  return encodeURIComponent(value.replace(/\p{Cs}/gu, "\uFFFD")).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** An RFC 7230 token: what ASP.NET accepts as a cookie name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]*$/;

/**
 * The Set-Cookie header the host writes for one of the worker's cookies: ASP.NET Core's `Response.Cookies.Append`
 * with the `CookieOptions` the host builds (the path defaults to "/"), in SetCookieHeaderValue's order.
 */
function setCookieHeader(cookie: RpcHttpCookie): string {
  const name = cookie.name ?? "";
  if (!TOKEN.test(name)) throw new Error(`The cookie name '${name}' is not a valid token.`);
  let header = `${name}=${escapeDataString(cookie.value ?? "")}`;
  const expires = cookie.expires?.value;
  if (expires) header += `; expires=${new Date(Number(expires.seconds ?? 0) * 1000).toUTCString()}`;
  if (typeof cookie.maxAge?.value === "number") header += `; max-age=${Math.trunc(cookie.maxAge.value)}`;
  if (cookie.domain) header += `; domain=${cookie.domain.value ?? ""}`;
  header += `; path=${cookie.path ? (cookie.path.value ?? "") : "/"}`;
  if (cookie.secure?.value) header += "; secure";
  // The worker's "none" is ASP.NET's Unspecified (no attribute); "explicitNone" is SameSite=None.
  const sameSite = { none: undefined, strict: "strict", lax: "lax", explicitNone: "none" }[cookie.sameSite ?? "none"];
  if (sameSite) header += `; samesite=${sameSite}`;
  if (cookie.httpOnly?.value) header += "; httponly";
  return header;
}

function bytesOf(data: RpcTypedData | null | undefined): Buffer {
  if (!data) return Buffer.alloc(0);
  const bytes = data.bytes ?? data.stream;
  if (bytes) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (typeof data.string === "string") return Buffer.from(data.string, "utf8");
  if (typeof data.json === "string") return Buffer.from(data.json, "utf8");
  const number = data.int ?? data.double;
  return Buffer.from(number === undefined || number === null ? "" : String(number), "utf8");
}

/**
 * Writes the worker's RpcHttp as the host's RawScriptResult does: the status code parsed from its string (200 if it
 * is not a number), each header as given (content-type as the response's), the cookies after any Set-Cookie header,
 * and the body's bytes with their length. No RpcHttp at all is the host's empty 200.
 */
function writeHttp(res: ServerResponse, http: RpcHttpData | null | undefined): number {
  const status = /^[+-]?\d+$/.test(http?.statusCode?.trim() ?? "") ? Number(http!.statusCode) : 200;
  const setCookies: string[] = [];
  for (const [name, value] of Object.entries(http?.headers ?? {})) {
    if (name.toLowerCase() === "set-cookie") setCookies.push(value);
    else res.setHeader(name, value);
  }
  for (const cookie of http?.cookies ?? []) setCookies.push(setCookieHeader(cookie));
  if (setCookies.length > 0) res.setHeader("set-cookie", setCookies);
  // The whole body in one write: Node sends its Content-Length (none for 204 and 304), as the host does.
  res.statusCode = status;
  res.end(bytesOf(http?.body));
  return status;
}

// ---------------------------------------------------------------- HTTP streams: the request forwarded to the worker

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
function forwardedHeaders(req: IncomingMessage, host: string, invocationId: string): OutgoingHttpHeaders {
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
function forwardToWorker(
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
async function relayAnswer(answer: IncomingMessage, res: ServerResponse): Promise<number> {
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

// ---------------------------------------------------------------- the body, read within bounds

type Body = { readonly bytes: Buffer } | { readonly refused: "tooLarge" | "stalled" | "aborted" };

/**
 * Reads a request body without ever holding more than `limit` bytes, and gives up when it stops arriving for
 * BODY_IDLE_TIMEOUT_MS.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Body> {
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
function discard(req: IncomingMessage): void {
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

// ---------------------------------------------------------------- the server

export interface LocalServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly projectRoot?: string;
  /** The app settings the host reads (the body limit, the bindings' expressions); unset: the environment. */
  readonly settings?: Settings;
  /** Where the queue output bindings of HTTP functions write (none: such a function fails). */
  readonly outputs?: QueueOutputs;
  readonly log?: (level: string, message: string) => void;
  /** Log every request at debug level (LOG_LEVEL=debug). */
  readonly debug?: boolean;
  /** Serve https with this key and certificate (PEM) instead of http. */
  readonly tls?: { readonly key: string; readonly cert: string };
}

export interface LocalServer {
  readonly server: Server | HttpsServer;
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** Serves the app's HTTP functions; the environment must already hold the app's settings, which the app reads. */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const root = options.projectRoot ?? PROJECT_ROOT;
  const settings = options.settings ?? process.env;
  const prefix = routePrefix(root);
  const routes = buildRoutes(prefix, await loadFunctionApp(root));
  const outputs = options.outputs ?? new QueueOutputs(undefined, root, settings);
  const log = options.log ?? (() => undefined);
  const debug = options.debug ?? false;
  const host = options.host ?? "127.0.0.1";
  const limit = bodyLimit(settings);
  // Set when the app enabled HTTP streams: requests are then forwarded to the worker's proxy.
  const httpUri = workerHttpUri();
  const scheme = options.tls ? "https" : "http";

  // Requests being handled, so a shutdown can let them finish before it closes the connections.
  let active = 0;
  let closing = false;
  let drained: (() => void) | undefined;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Only a refusal needs it: read then (`headersDistinct` builds every header's list).
    const clientRequestId = () => headerValues(req.rawHeaders, "client-request-id")[0];
    const declared = req.headers["content-length"] === undefined ? undefined : Number(req.headers["content-length"]);
    const hasBody = (declared ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
    const refuse = (answer: Refusal, close = false) => {
      if (close) {
        res.setHeader("Connection", "close");
        res.once("finish", () => req.socket.destroySoon());
      } else if (hasBody && !req.complete) {
        discard(req);
      }
      res.writeHead(answer.status, answer.headers).end(answer.body);
    };

    const hosts = headerValues(req.rawHeaders, "host");
    if (hosts.length !== 1 || !validHost(hosts[0])) {
      return refuse(refusal("badRequest", "The Host header is missing or malformed.", clientRequestId()));
    }
    const target = req.url ?? "/";
    if (!target.startsWith("/") && !/^https?:\/\//i.test(target)) {
      return refuse(refusal("badRequest", "The request target is malformed.", clientRequestId()));
    }
    // The URL the host gives the function: scheme, the Host header, then the path and query as sent.
    const absolute = target.startsWith("/") ? undefined : new URL(target);
    const url = new URL(`${scheme}://${hosts[0]}${absolute ? `${absolute.pathname}${absolute.search}` : target}`);
    const method = (req.method ?? "GET").toUpperCase();
    const path = decodeRoutePath(url.pathname);
    let route: Route | undefined;
    let match: RegExpExecArray | null = null;
    for (const candidate of routes) {
      if (candidate.methods.has(method) && (match = candidate.pattern.exec(path))) {
        route = candidate;
        break;
      }
    }
    if (!route || !match) {
      return refuse(refusal("notFound", `No resource at ${url.pathname.slice(0, 200)}.`, clientRequestId()));
    }
    const tooLarge = () =>
      refusal("payloadTooLarge", `The request body is larger than ${limit} bytes.`, clientRequestId());
    if (declared !== undefined && declared > limit) return refuse(tooLarge());

    let body: Buffer | undefined;
    if (hasBody) {
      if (req.headers.expect?.toLowerCase() === "100-continue") res.writeContinue();
      const read = await readBody(req, limit);
      if ("refused" in read) {
        if (read.refused === "aborted") return void req.socket.destroy();
        if (read.refused === "tooLarge") return refuse(tooLarge());
        return refuse(refusal("requestTimeout", "The request body stopped arriving.", clientRequestId()), true);
      }
      body = read.bytes;
    }

    const params = routeValues(route, match);
    const started = debug ? performance.now() : 0;
    const invocationId = randomUUID();
    const query = url.search === "" ? [] : queryOf(url.searchParams);
    const invocation: RpcInvocationRequest = {
      invocationId,
      functionId: route.fn.functionId,
      inputData: [{ name: route.fn.trigger.name, data: { http: rpcHttp(req, url, query, params, body) } }],
      // The HTTP trigger's binding data; the request itself is left out (RpcHttpTriggerMetadataRemoved). With HTTP
      // streams the model builds the request from these and the forwarded request.
      triggerMetadata: {
        ...Object.fromEntries(Object.entries(params).map(([name, value]) => [name, { string: value }])),
        Query: { json: JSON.stringify(Object.fromEntries(query)) },
        Headers: { json: JSON.stringify(req.headers) },
      },
      traceContext: traceContextFor(req),
    };
    if (httpUri) {
      // HTTP streams: the request is forwarded first, then the invocation request sent, as the host does; the
      // worker answers on the forwarded connection. The body was read within the same limit; a chunked one goes
      // through too (the host forwards it, where without streams it gives the function no body).
      const forwarded = forwardToWorker(
        httpUri,
        req,
        `${url.pathname}${url.search}`,
        forwardedHeaders(req, hosts[0], invocationId),
        body,
      );
      // The answer is relayed as it arrives, while the invocation still runs (it ends once the body is written).
      const relayed = forwarded.answer.then((answer) => relayAnswer(answer, res));
      const invoked = invokeFunction(route.fn, invocation);
      invoked.catch(() => forwarded.abort());
      const [response, status] = await Promise.all([invoked, relayed]);
      await outputs.write(route.fn, response);
      if (debug)
        log("debug", `${method} ${url.pathname} -> ${status} (${(performance.now() - started).toFixed(1)} ms)`);
      return;
    }
    const response = await invokeFunction(route.fn, invocation);
    await outputs.write(route.fn, response);
    const httpOutput = Object.values(route.fn.bindings).find((b) => b.direction === "out" && b.type === "http");
    const data =
      httpOutput?.name === "$return"
        ? response.returnValue
        : response.outputData?.find((output) => output.name === httpOutput?.name)?.data;
    const status = writeHttp(res, data?.http);
    if (debug) log("debug", `${method} ${url.pathname} -> ${status} (${(performance.now() - started).toFixed(1)} ms)`);
  }

  // The Functions host accepts 32 KB of request headers; Node's default is 16 KB.
  const serverOptions = {
    maxHeaderSize: 32 * 1024,
    requireHostHeader: false, // checked by the handler, to answer in Graph's shape
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: 1_000,
  };
  const server = options.tls
    ? createHttpsServer({ ...serverOptions, key: options.tls.key, cert: options.tls.cert })
    : createServer(serverOptions);
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    active++;
    // While shutting down, answer and then close the connection rather than keep it for another request.
    if (closing) res.setHeader("Connection", "close");
    res.once("close", () => {
      active--;
      if (closing && active === 0) drained?.();
    });
    handle(req, res).catch((error: unknown) => {
      log("error", `Invocation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (res.headersSent) return void res.destroy();
      const answer = refusal("internal", "An unexpected error occurred.");
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      res.writeHead(answer.status, answer.headers).end(answer.body);
    });
  };
  server.on("request", onRequest);
  // Expect: 100-continue is answered when the body is about to be read, so a refusal comes before the body is sent.
  server.on("checkContinue", onRequest);
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    const response = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (error.code === "ECONNRESET" || !socket.writable || response?.headersSent) return void socket.destroy();
    rawRefusal(socket, parserRefusal(error, settings.AUTH_JWKS_FILE !== undefined));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    baseUrl: `${scheme}://${host}:${address.port}/${prefix}`,
    // Stop accepting, let the requests being handled finish (at most 8 s), then close every connection left.
    close: async () => {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      if (active > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, 8_000).unref();
        });
      }
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The app's settings, and what the runner reads that is not one of its own typed settings. */
const APP_SETTING_NAMES = [
  ...SETTINGS.map((s) => s.name),
  "AzureWebJobsStorage",
  "AzureWebJobsScriptRoot",
  "TEAMOPS_DEV_DIR",
];

/** The example team the banner's commands use: any GUID would do. */
export const EXAMPLE_TEAM = "3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f";

/** A taken port, said with the setting that moves it. */
function portTaken(error: unknown, setting: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EADDRINUSE" || error instanceof PortTakenError) {
    // A second runner needs a data folder of its own too.
    const data = setting === "PORT" ? " (and LOCAL_DATA_DIR to a folder of its own)" : "";
    return new Error(
      `Port ${port} on 127.0.0.1 is taken (${setting}); stop what uses it, or set ${setting} to another port${data}.`,
    );
  }
  return error;
}

/**
 * Takes the data folder's lock (scripts/data-lock.js, plain JavaScript so that `npm run reset` reads it without a
 * build): a folder another running runner holds stops the start, naming that runner. Released when the runner stops,
 * and at any exit short of SIGKILL.
 */
async function holdDataFolder(dataDir: string, log: (level: string, message: string) => void) {
  const { lockDataFolder } = (await import(
    pathToFileURL(join(PROJECT_ROOT, "scripts/data-lock.js")).href
  )) as typeof DataLock;
  mkdirSync(dataDir, { recursive: true });
  const lock = lockDataFolder(dataDir);
  if (lock.tookOver) {
    log(
      "warning",
      `The data folder ${dataDir} was locked by process ${lock.tookOver.pid ?? "(unknown)"}, which is no longer running: its lock is taken over.`,
    );
  }
  const release = () => lock.release();
  process.once("exit", release);
  return {
    setPort: (port: number) => lock.setPort(port),
    close: () => {
      process.removeListener("exit", release);
      release();
      return Promise.resolve();
    },
  };
}

/** A store named in the settings that does not answer: say where the setting came from and what to do. */
async function storeWarning(endpoint: string, fromLocalSettings: boolean): Promise<string | undefined> {
  if (!/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(endpoint)) return undefined;
  const answered = await fetch(endpoint, { signal: AbortSignal.timeout(3_000) }).then(
    () => true,
    () => false,
  );
  if (answered) return undefined;
  const origin = fromLocalSettings ? " (from local.settings.json)" : "";
  return (
    `COSMOS_ENDPOINT${origin} is ${endpoint}, which does not answer: start that store (npm run start:store), ` +
    "or leave COSMOS_ENDPOINT unset for the embedded one. Until then, requests that need the store get 503."
  );
}

async function main(): Promise<void> {
  // Resources are recorded as they start, so a signal at any moment (even during start-up) stops what has started.
  const started: { close(): Promise<void> }[] = [];
  let stopping = false;
  let exitCode = 0;
  const stopAll = async () => {
    for (const resource of started.reverse()) await resource.close().catch(() => undefined);
  };
  const shutdown = (signal: string) => {
    if (stopping) {
      console.log(`${signal}: still stopping (saving what was acknowledged)`);
      return;
    }
    stopping = true;
    console.log(`${signal}: stopping`);
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    void stopAll().then(() => process.exit(exitCode));
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  try {
    await start(started, () => stopping);
  } catch (error) {
    exitCode = 1;
    console.error(error instanceof Error ? error.message : String(error));
    if (!stopping) shutdown("start-up failed");
  }
}

/** Where the app's operations and subscriptions are: the store the runner started, or the one the settings name. */
interface StoreConnection {
  readonly endpoint: string;
  /** An account key (the embedded store, the emulator); none: the app's credential. */
  readonly key: string | undefined;
  readonly database: string;
  readonly container: string;
}

/**
 * Hands the app its settings. The app runs in this process, as the worker runs beside the Functions host, and reads
 * its settings from its environment as the worker does: this is the environment the host would start the worker
 * with, written once, before the app is loaded. The runner itself reads only its typed settings.
 */
function provideAppSettings(settings: Readonly<Record<string, string | undefined>>): void {
  for (const [name, value] of Object.entries(settings)) {
    if (value !== undefined && process.env[name] !== value) process.env[name] = value;
  }
}

async function start(started: { close(): Promise<void> }[], stopping: () => boolean): Promise<void> {
  // The app to serve: the script root, as the Functions host names it (this repository unless told otherwise).
  const appRoot = process.env.AzureWebJobsScriptRoot ?? PROJECT_ROOT;
  const given = readAppSettings(process.env, appRoot);
  const settings = readRunnerSettings(given.values, appRoot);
  const keys = await ensureDevKeys(devDir(given.values));
  // The development key signs validation tokens, unless a Key Vault key is named or the run plays Azure (which
  // refuses a key file, as it refuses AUTH_JWKS_FILE).
  const notificationSigningKey =
    given.values.NOTIFICATION_SIGNING_KEY_ID || given.values.WEBSITE_SITE_NAME
      ? undefined
      : (given.values.NOTIFICATION_SIGNING_KEY_FILE ?? (await ensureNotificationSigningKey(devDir(given.values))));
  const log = (level: string, message: string) => {
    if (level === "error" || level === "critical") console.error(`[${level}] ${message}`);
    else if (level === "warning" && settings.logLevel !== "error") console.error(`[${level}] ${message}`);
    else if (settings.logLevel === "debug") console.log(`[${level}] ${message}`);
  };
  // A misspelt runner setting is a warning here; the app warns about its own settings when it loads (index.ts).
  const runnerSettings = RUNNER_SETTINGS.map((s) => s.name);
  for (const warning of misspeltSettings(Object.keys(given.values), runnerSettings, APP_SETTING_NAMES)) {
    log("warning", warning);
  }

  // The data folder is this runner's alone until it exits (released last, after the store has saved its data).
  const folder = settings.dataDir ? await holdDataFolder(settings.dataDir, log) : undefined;
  if (folder) started.push(folder);

  let embedded: EmbeddedCosmos | undefined;
  if (!given.values.COSMOS_ENDPOINT) {
    embedded = await startEmbeddedCosmos(settings.cosmosPort, "127.0.0.1", {
      dataFile: settings.dataDir ? join(settings.dataDir, "store.json") : undefined,
      changeFeed: settings.triggers,
      log,
    }).catch((error: unknown) => {
      throw portTaken(error, "COSMOS_PORT", settings.cosmosPort);
    });
    started.push(embedded);
  } else {
    const warning = await storeWarning(given.values.COSMOS_ENDPOINT, given.fromLocalSettings.has("COSMOS_ENDPOINT"));
    if (warning) console.error(`[warning] ${warning}`);
  }
  const store: StoreConnection = {
    endpoint: embedded?.endpoint ?? given.values.COSMOS_ENDPOINT!,
    key: embedded ? embedded.key : given.values.COSMOS_KEY,
    database: given.values.COSMOS_DATABASE ?? COSMOS_DEFAULTS.database,
    container: given.values.COSMOS_CONTAINER ?? COSMOS_DEFAULTS.container,
  };
  const subscriptionsContainer = given.values.COSMOS_SUBSCRIPTIONS_CONTAINER ?? COSMOS_DEFAULTS.subscriptionsContainer;
  if (store.key) {
    await ensureLocalContainer(store.endpoint, store.key, store.database, store.container);
    await ensureLocalContainer(store.endpoint, store.key, store.database, subscriptionsContainer, "subscriptions");
  }

  // Storage for queue triggers and outputs: Azurite unless AzureWebJobsStorage names an account.
  let azurite: Azurite | undefined;
  const storageSetting = given.values.AzureWebJobsStorage;
  if (settings.queues && (!storageSetting || storageSetting === "UseDevelopmentStorage=true")) {
    azurite = await startAzuriteQueue(
      settings.azuriteQueuePort,
      settings.dataDir ? join(settings.dataDir, "azurite") : undefined,
    ).catch((error: unknown) => {
      throw portTaken(error, "AZURITE_QUEUE_PORT", settings.azuriteQueuePort);
    });
    started.push(azurite);
  }
  if (stopping()) return;

  // The app's settings: those given, and what the local host provides (the development identity, plain-http
  // receivers on loopback, which are never allowed in Azure, the store and the queues' storage account).
  const appSettings: Record<string, string | undefined> = {
    ...given.values,
    AUTH_AUDIENCES: given.values.AUTH_AUDIENCES ?? DEV_AUDIENCE,
    AUTH_TENANTS: given.values.AUTH_TENANTS ?? "*",
    SUBSCRIPTION_ALLOW_LOOPBACK: given.values.SUBSCRIPTION_ALLOW_LOOPBACK ?? "true",
    AUTH_JWKS_FILE: given.values.AUTH_JWKS_URI
      ? given.values.AUTH_JWKS_FILE
      : (given.values.AUTH_JWKS_FILE ?? keys.jwksFile),
    NOTIFICATION_SIGNING_KEY_FILE: notificationSigningKey,
    COSMOS_ENDPOINT: store.endpoint,
    COSMOS_KEY: store.key,
    COSMOS_DATABASE: store.database,
    COSMOS_CONTAINER: store.container,
    COSMOS_SUBSCRIPTIONS_CONTAINER: store.key ? subscriptionsContainer : given.values.COSMOS_SUBSCRIPTIONS_CONTAINER,
    AzureWebJobsStorage: azurite?.connectionString ?? storageSetting,
  };
  provideAppSettings(appSettings);

  setWorkerLog(log);
  const outputs = new QueueOutputs(settings.queues ? appSettings.AzureWebJobsStorage : undefined, appRoot, appSettings);
  const certificate = settings.https ? await ensureDevCertificate(devDir(given.values)) : undefined;
  const local = await startLocalServer({
    port: settings.port,
    projectRoot: appRoot,
    settings: appSettings,
    outputs,
    log,
    debug: settings.logLevel === "debug",
    ...(certificate ? { tls: certificate } : {}),
  }).catch((error: unknown) => {
    throw portTaken(error, "PORT", settings.port);
  });
  folder?.setPort(Number(new URL(local.baseUrl).port));
  // Closed in reverse: the API drains first, then the triggers, the app's appTerminate hooks (which send buffered
  // telemetry), Azurite, and last the store, which saves its data once nothing can change it any more.
  started.push({
    close: () => terminateApp().catch((error: unknown) => log("error", `appTerminate hook failed: ${String(error)}`)),
  });
  const triggers = await startTriggers({
    projectRoot: appRoot,
    settings: appSettings,
    functions: settings.triggers ? await loadFunctionApp(appRoot) : [],
    outputs,
    cosmos: store.key ? { ...store, key: store.key } : undefined,
    changeFeed: embedded?.changeFeed,
    log,
  });
  started.push(triggers, local);
  if (stopping()) return;

  const base = local.baseUrl;
  const where = (dir: string) => {
    const near = relative(process.cwd(), dir);
    return near === "" ? "." : near.startsWith("..") ? dir : near;
  };
  const setting = (expression: string) => resolveSetting(expression, appSettings);
  console.log(`Team Operations API listening on ${base}`);
  console.log(
    `  store:  ${embedded ? `embedded Cosmos DB server at ${embedded.endpoint}` : store.endpoint}` +
      (embedded && settings.dataDir
        ? `, data in ${where(join(settings.dataDir, "store.json"))} (${embedded.restored} documents restored)`
        : embedded
          ? ", in memory (LOCAL_PERSISTENCE=off)"
          : ""),
  );
  if (settings.queues) {
    console.log(
      `  queues: ${setting("%OPERATIONS_INBOX_QUEUE%")} -> ${setting("%OPERATION_EVENTS_QUEUE%")} on ` +
        (azurite
          ? `Azurite at 127.0.0.1:${azurite.port}${settings.dataDir ? `, data in ${where(join(settings.dataDir, "azurite"))}` : ""}`
          : "AzureWebJobsStorage"),
    );
    if (azurite) console.log(`          AzureWebJobsStorage="${azurite.connectionString}"`);
  } else {
    console.log("  queues: off");
  }
  if (settings.dataDir)
    console.log(`  data:   ${where(settings.dataDir)} (npm run reset, while stopped, starts empty)`);
  if (certificate) {
    console.log(`  https:  the development certificate ${where(certificate.certFile)}: trust it (docs/sdks.md)`);
  }
  console.log(`  health: curl ${base}/health`);
  console.log(`  token:  TOKEN=$(npm run --silent token -- --groups $TEAM)   # a member of that team`);
  console.log(
    `          TOKEN=$(npm run --silent token -- --app)            # an application: any team (--help for more)`,
  );
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  void main();
}
