/**
 * The local host's HTTP server: routes each request as the host's routing does, refuses what the host refuses before
 * any function runs (refusals.ts), turns the request into the invocation request the host sends the worker
 * (invocationRequest.ts), has the worker (functionsHost.ts, so the app's own programming model and hooks) run it, and
 * writes the worker's HTTP response as the host writes it (responseWriter.ts). An app with HTTP streams gets the
 * request forwarded to its worker's proxy instead, and its answer relayed (httpStreams.ts).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { compileRouteTemplate, decodeRoutePath } from "../../shared/http/routeTemplate.js";
import { PROJECT_ROOT } from "../devIdentity.js";
import {
  invokeFunction,
  loadFunctionApp,
  routePrefix,
  workerHttpUri,
  type RegisteredFunction,
} from "../functionsHost.js";
import { QueueOutputs, type Settings } from "../triggers.js";
import { forwardedHeaders, forwardToWorker, relayAnswer } from "./httpStreams.js";
import { headerValues, httpInvocation, type Route } from "./invocationRequest.js";
import { parserRefusal, rawRefusal, refusal, validHost, type Refusal } from "./refusals.js";
import { discard, readBody } from "./requestBody.js";
import { writeHttp } from "./responseWriter.js";

/** The Functions host's FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, in bytes; unset, this runner's own limit. */
function bodyLimit(settings: Settings): number {
  const setting = Number(settings.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT);
  return Number.isSafeInteger(setting) && setting >= 0 ? setting : 4 * 1024 * 1024;
}

/** How long the request line and headers may take to arrive. */
const HEADERS_TIMEOUT_MS = 5_000;
/** The longest a whole request may take to arrive. */
const REQUEST_TIMEOUT_MS = 60_000;

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

    const started = debug ? performance.now() : 0;
    const invocationId = randomUUID();
    const invocation = httpInvocation(invocationId, route, match, req, url, body);
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
