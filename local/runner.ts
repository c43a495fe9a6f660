/**
 * The local runner: serves the app's own HTTP functions on
 * http://127.0.0.1:7071/v1.0, as `func start` would, for machines where Azure
 * Functions Core Tools cannot be installed. It loads the app through
 * `functionsHost.ts` (the same `main` glob, the same registrations), so no
 * handler or route is written twice. With no COSMOS_ENDPOINT it starts the
 * embedded store; tokens come from `npm run --silent token`.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import functions, { type HttpResponseInit } from "@azure/functions";
import { DEV_AUDIENCE, ensureDevKeys, PROJECT_ROOT } from "./devIdentity.js";
import { ensureLocalContainer, startEmbeddedCosmos, type EmbeddedCosmos } from "./embeddedCosmos.js";
import { startAzuriteQueue, type Azurite } from "./azurite.js";
import { loadFunctionApp, routePrefix, runAppTerminateHooks, type RegisteredFunction } from "./functionsHost.js";
import { resolveSetting, startTriggers } from "./triggers.js";

// A webpack bundle: Node's ESM loader cannot see every named export.
const { HttpRequest, InvocationContext } = functions;

/** What the Functions host would refuse before the app sees a request. */
const HOST_MAX_BODY_BYTES = 4 * 1024 * 1024;

interface Route {
  readonly fn: RegisteredFunction;
  readonly methods: ReadonlySet<string>;
  readonly pattern: RegExp;
  readonly params: readonly string[];
  /** Literal segments first, as ASP.NET routing orders them. */
  readonly rank: string;
}

function compileRoute(prefix: string, fn: RegisteredFunction): Route {
  const route = typeof fn.trigger.route === "string" ? fn.trigger.route : fn.name;
  const template = `${prefix}/${route}`.replace(/^\/+/, "");
  const params: string[] = [];
  let rank = "";
  const parts = template.split("/").map((segment) => {
    const param = /^\{(\*?)([A-Za-z0-9_]+)(?::[^}?]*)?(\??)\}$/.exec(segment);
    if (!param) {
      rank += "0";
      return `/${segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`;
    }
    params.push(param[2]!);
    if (param[1]) {
      rank += "2";
      return "(?:/(.*))?";
    }
    rank += "1";
    return param[3] ? "(?:/([^/]+))?" : "/([^/]+)";
  });
  const methods = (fn.trigger.methods as string[] | undefined) ?? ["GET", "POST"];
  return {
    fn,
    methods: new Set(methods.map((m) => m.toUpperCase())),
    pattern: new RegExp(`^${parts.join("")}/?$`, "i"),
    params,
    rank,
  };
}

export function buildRoutes(prefix: string, functions: readonly RegisteredFunction[]): Route[] {
  return functions
    .filter((fn) => fn.trigger.type === "httpTrigger")
    .map((fn) => compileRoute(prefix, fn))
    .sort((a, b) => a.rank.localeCompare(b.rank));
}

/** Decodes each path segment as ASP.NET routing does, leaving an encoded '/' alone; bad escapes stay as sent. */
function decodePath(pathname: string): string {
  return pathname
    .split("/")
    .map((segment) => {
      try {
        return decodeURIComponent(segment.replace(/%2f/gi, "%252F"));
      } catch {
        return segment;
      }
    })
    .join("/");
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > HOST_MAX_BODY_BYTES) {
        resolve(undefined);
        req.removeAllListeners("data");
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

/**
 * The response's headers as the plain record node:http writes. A record (what our handlers return) is used as it
 * is: building a `Headers` for every response showed up under load.
 */
function headerRecord(init: HttpResponseInit["headers"]): Record<string, string> {
  if (init === undefined) return {};
  if (init instanceof Headers || Array.isArray(init)) return Object.fromEntries(new Headers(init).entries());
  return { ...init };
}

function writeResponse(res: ServerResponse, response: HttpResponseInit | undefined): void {
  const init = response ?? { status: 204 };
  const headers = headerRecord(init.headers);
  const hasContentType = () => Object.keys(headers).some((name) => name.toLowerCase() === "content-type");
  let body: string | Buffer | undefined;
  if (init.jsonBody !== undefined) {
    body = JSON.stringify(init.jsonBody);
    if (!hasContentType()) headers["content-type"] = "application/json";
  } else if (typeof init.body === "string" || Buffer.isBuffer(init.body)) {
    body = init.body;
  } else if (init.body instanceof Uint8Array) {
    body = Buffer.from(init.body);
  }
  if (body !== undefined && !hasContentType()) headers["content-type"] = "text/plain;charset=utf-8";
  res.writeHead(init.status ?? 200, headers);
  res.end(body);
}

export interface LocalServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly projectRoot?: string;
  readonly log?: (level: string, message: string) => void;
}

export interface LocalServer {
  readonly server: Server;
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** Serves the app's HTTP functions; the environment must already hold the app's settings. */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const root = options.projectRoot ?? PROJECT_ROOT;
  const prefix = routePrefix(root);
  const routes = buildRoutes(prefix, await loadFunctionApp(root));
  const log = options.log ?? (() => undefined);
  const host = options.host ?? "127.0.0.1";

  // Requests being handled, so a shutdown can let them finish before it closes the connections.
  let active = 0;
  let closing = false;
  let drained: (() => void) | undefined;
  // The Functions host accepts 32 KB of request headers; Node's default is 16 KB.
  const server = createServer({ maxHeaderSize: 32 * 1024 }, (req, res) => {
    active++;
    // While shutting down, answer and then close the connection rather than keep it for another request.
    if (closing) res.setHeader("Connection", "close");
    res.once("close", () => {
      active--;
      if (closing && active === 0) drained?.();
    });
    void (async () => {
      const url = new URL(req.url ?? "/", `http://${req.headers.host ?? `${host}`}`);
      const method = (req.method ?? "GET").toUpperCase();
      const path = decodePath(url.pathname);
      const route = routes.find((r) => r.methods.has(method) && r.pattern.test(path));
      if (!route) {
        req.resume();
        res.writeHead(404).end();
        return;
      }
      const match = route.pattern.exec(path)!;
      const params: Record<string, string> = {};
      route.params.forEach((name, i) => {
        const value = match[i + 1];
        if (value !== undefined) params[name] = value;
      });
      const body = await readBody(req);
      if (body === undefined) {
        res.writeHead(413).end();
        return;
      }
      const request = new HttpRequest({
        method,
        url: url.href,
        headers: headersOf(req),
        params,
        body: body.length > 0 ? { bytes: body } : undefined,
      });
      const context = new InvocationContext({
        invocationId: randomUUID(),
        functionName: route.fn.name,
        logHandler: (level, ...args) => log(level, args.map(String).join(" ")),
      });
      const started = performance.now();
      const response = (await route.fn.handler(request, context)) as HttpResponseInit | undefined;
      writeResponse(res, response);
      log(
        "debug",
        `${method} ${url.pathname} -> ${response?.status ?? 204} (${(performance.now() - started).toFixed(1)} ms)`,
      );
    })().catch((error: unknown) => {
      log("error", `Runner failure: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    baseUrl: `http://${host}:${address.port}/${prefix}`,
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

/** Reads `Values` of local.settings.json, as `func start` does, without overriding the real environment. */
function applyLocalSettings(root: string): void {
  const file = join(root, "local.settings.json");
  if (!existsSync(file)) return;
  const values = (JSON.parse(readFileSync(file, "utf8")) as { Values?: Record<string, string> }).Values ?? {};
  for (const [name, value] of Object.entries(values)) process.env[name] ??= value;
}

async function main(): Promise<void> {
  applyLocalSettings(PROJECT_ROOT);
  const port = Number(process.env.PORT ?? 7071);
  const verbose = process.env.LOG_LEVEL === "debug";
  const keys = await ensureDevKeys();
  process.env.AUTH_AUDIENCES ??= DEV_AUDIENCE;
  process.env.AUTH_TENANTS ??= "*";
  if (!process.env.AUTH_JWKS_URI) process.env.AUTH_JWKS_FILE ??= keys.jwksFile;

  let embedded: EmbeddedCosmos | undefined;
  if (!process.env.COSMOS_ENDPOINT) {
    embedded = await startEmbeddedCosmos(Number(process.env.COSMOS_PORT ?? 0));
    process.env.COSMOS_ENDPOINT = embedded.endpoint;
    process.env.COSMOS_KEY = embedded.key;
  }
  const database = (process.env.COSMOS_DATABASE ??= "teamops");
  const container = (process.env.COSMOS_CONTAINER ??= "operations");
  if (process.env.COSMOS_KEY) {
    await ensureLocalContainer(process.env.COSMOS_ENDPOINT, process.env.COSMOS_KEY, database, container);
  }

  // Storage for queue triggers and outputs: Azurite on its default port unless AzureWebJobsStorage names an
  // account; LOCAL_QUEUES=off runs without queues (tests that do not need them).
  let azurite: Azurite | undefined;
  // LOCAL_TRIGGERS=off serves HTTP only (benchmarks: the local change-feed emulation polls the store).
  const triggersOn = process.env.LOCAL_TRIGGERS !== "off";
  const queuesOn = triggersOn && process.env.LOCAL_QUEUES !== "off";
  const storageSetting = process.env.AzureWebJobsStorage;
  if (queuesOn && (!storageSetting || storageSetting === "UseDevelopmentStorage=true")) {
    azurite = await startAzuriteQueue(Number(process.env.AZURITE_QUEUE_PORT ?? 10001));
    process.env.AzureWebJobsStorage = azurite.connectionString;
  }

  const log = (level: string, message: string) => {
    if (level === "error" || level === "warning") console.error(`[${level}] ${message}`);
    else if (verbose) console.log(`[${level}] ${message}`);
  };
  const local = await startLocalServer({ port, log });
  const triggers = await startTriggers({
    projectRoot: PROJECT_ROOT,
    functions: triggersOn ? await loadFunctionApp(PROJECT_ROOT) : [],
    storageConnection: queuesOn ? process.env.AzureWebJobsStorage : undefined,
    cosmos: process.env.COSMOS_KEY
      ? { endpoint: process.env.COSMOS_ENDPOINT, key: process.env.COSMOS_KEY, database, container }
      : undefined,
    log,
  });
  console.log(`Team Operations API listening on ${local.baseUrl}`);
  console.log(
    `  store: ${embedded ? `embedded Cosmos DB server at ${embedded.endpoint}` : process.env.COSMOS_ENDPOINT}`,
  );
  console.log(
    `  queues: ${queuesOn ? `${resolveSetting("%OPERATIONS_INBOX_QUEUE%")} -> ${resolveSetting("%OPERATION_EVENTS_QUEUE%")} on ${azurite ? `Azurite at 127.0.0.1:${process.env.AZURITE_QUEUE_PORT ?? 10001}` : "AzureWebJobsStorage"}` : "off"}`,
  );
  console.log(`  health: curl ${local.baseUrl}/health`);
  console.log(`  token:  TOKEN=$(npm run --silent token)   # add -- --help for options`);

  // Graceful: stop accepting, let in-flight requests and triggers finish, run the app's appTerminate hooks
  // (which send buffered telemetry), then stop Azurite and the store.
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    void local
      .close()
      .then(() => triggers.close())
      .then(() => runAppTerminateHooks().catch(() => undefined))
      .then(() => azurite?.close())
      .then(() => embedded?.close())
      .then(() => process.exit(0));
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
