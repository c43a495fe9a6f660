// Diagnostic for section 2 (not a product path): an app's own registered handlers
// (the bundle, loaded as the host loads it, or BENCH_APP_ROOT's, such as the peer) behind a bare node:http server that
// hands them the lightest objects they accept, instead of the `HttpRequest` and
// `InvocationContext` of @azure/functions that the local runner builds (as the
// Functions worker does). The difference between this and the runner is the cost of
// those objects; the difference between this and bench/baseline-server.js is the
// cost of our own code (auth, validation, rules, mapping, Graph conventions).
//   PORT and the app's settings (COSMOS_*, AUTH_*) in the environment.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { loadFunctionApp, routePrefix } from "../dist/local/functionsHost.js";
import { buildRoutes } from "../dist/local/host/server.js";
import { repoRoot } from "./app-roots.js";

// BENCH_APP_ROOT: another build of the app (the bench compares bundle settings); the repository by default.
const appRoot = process.env.BENCH_APP_ROOT ?? repoRoot;
const routes = buildRoutes(routePrefix(appRoot), await loadFunctionApp(appRoot));
const noop = () => undefined;

function send(res, response) {
  let headers = response.headers ?? {};
  let body = response.body;
  if (response.jsonBody !== undefined) {
    body = JSON.stringify(response.jsonBody);
    headers = { "content-type": "application/json", ...headers };
  }
  res.writeHead(response.status ?? 200, headers);
  res.end(body);
}

/** The least a body needs to be read as our handlers read it (getReader, read, cancel, releaseLock): one chunk. */
function oneChunkBody(bytes) {
  return {
    getReader() {
      let read = false;
      return {
        read: async () => (read ? { done: true, value: undefined } : ((read = true), { done: false, value: bytes })),
        cancel: async () => undefined,
        releaseLock: () => undefined,
      };
    },
  };
}

function bodyOf(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.once("end", () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

async function handle(req, res) {
  const target = req.url ?? "/";
  const queryAt = target.indexOf("?");
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  const method = req.method;
  let route;
  let match;
  for (const candidate of routes) {
    if (candidate.methods.has(method) && (match = candidate.pattern.exec(path))) {
      route = candidate;
      break;
    }
  }
  if (!route) return res.writeHead(404).end();
  const params = {};
  route.params.forEach((name, i) => match[i + 1] !== undefined && (params[name] = decodeURIComponent(match[i + 1])));
  const length = Number(req.headers["content-length"] ?? 0);
  const bytes = length > 0 ? await bodyOf(req) : undefined;
  const request = {
    method,
    url: `http://${req.headers.host}${target}`,
    params,
    get query() {
      return new URL(this.url).searchParams;
    },
    headers: {
      get: (name) => {
        const value = req.headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
      },
    },
    body: bytes ? oneChunkBody(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)) : null,
    // What the peer reads its body with (ours reads `body`).
    text: async () => (bytes ? bytes.toString("utf8") : ""),
    json: async () => JSON.parse(bytes ? bytes.toString("utf8") : ""),
  };
  const context = { invocationId: randomUUID(), functionName: route.fn.name, info: noop, warn: noop, error: noop };
  send(res, await route.fn.handler(request, context));
}

const server = createServer((req, res) => {
  handle(req, res).catch((error) => res.writeHead(500).end(String(error)));
});
server.keepAliveTimeout = 5_000;
server.listen(Number(process.env.PORT ?? 7091), "127.0.0.1", () => {
  console.log(`bare host listening on http://127.0.0.1:${server.address().port}/v1.0`);
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
