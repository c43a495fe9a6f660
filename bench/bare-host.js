// Diagnostic for section 2 (not a product path): the app's own registered handlers
// (the bundle, loaded as the host loads it) behind a bare node:http server that
// hands them the lightest objects they accept, instead of the `HttpRequest` and
// `InvocationContext` of @azure/functions that the local runner builds (as the
// Functions worker does). The difference between this and the runner is the cost of
// those objects; the difference between this and bench/baseline-server.js is the
// cost of our own code (auth, validation, rules, mapping, Graph conventions).
//   PORT and the app's settings (COSMOS_*, AUTH_*) in the environment.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { loadFunctionApp, routePrefix } from "../dist/local/functionsHost.js";
import { buildRoutes } from "../dist/local/runner.js";
import { repoRoot } from "./app-roots.js";

const routes = buildRoutes(routePrefix(repoRoot), await loadFunctionApp(repoRoot));
const noop = () => undefined;

function send(res, response) {
  const headers = { ...response.headers };
  let body = response.body;
  if (response.jsonBody !== undefined) {
    body = JSON.stringify(response.jsonBody);
    headers["content-type"] ??= "application/json";
  }
  res.writeHead(response.status ?? 200, headers);
  res.end(body);
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  const method = req.method;
  const route = routes.find((r) => r.methods.has(method) && r.pattern.test(url.pathname));
  if (!route) return res.writeHead(404).end();
  const match = route.pattern.exec(url.pathname);
  const params = {};
  route.params.forEach((name, i) => match[i + 1] !== undefined && (params[name] = decodeURIComponent(match[i + 1])));
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  const request = {
    method,
    url: url.href,
    params,
    query: url.searchParams,
    headers: {
      get: (name) => {
        const value = req.headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
      },
    },
    body: body.length > 0 ? ReadableStream.from([new Uint8Array(body)]) : null,
  };
  const context = { invocationId: randomUUID(), functionName: route.fn.name, info: noop, warn: noop, error: noop };
  send(res, await route.fn.handler(request, context));
});
server.keepAliveTimeout = 5_000;
server.listen(Number(process.env.PORT ?? 7091), "127.0.0.1", () => {
  console.log(`bare host listening on http://127.0.0.1:${server.address().port}/v1.0`);
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
