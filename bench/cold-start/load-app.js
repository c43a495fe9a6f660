// One cold start of the app, in a fresh process: load it as the Functions host
// does (package.json `main` of the app folder given, default the repo: the entry,
// every function file, schemas compiled), then answer one /health, which
// constructs the CosmosClient and reaches the store. The parent sets the
// environment (COSMOS_ENDPOINT, COSMOS_KEY, AUTH_*).
//   node bench/cold-start/load-app.js [appRoot]
import { loadFunctionApp } from "../../dist/local/functionsHost.js";

const root = process.argv[2] ?? new URL("../..", import.meta.url).pathname;
const functions = await loadFunctionApp(root);
const loaded = performance.now();
const health = functions.find((f) => f.name === "health");
// Duck-typed request and context: what the host would hand the handler.
const request = { method: "GET", url: "http://127.0.0.1:7071/v1.0/health", headers: new Headers(), params: {} };
const noop = () => undefined;
const context = { invocationId: "cold-start", functionName: "health", log: noop, warn: noop, error: noop };
const response = await health.handler(request, context);
if (response.status !== 200) throw new Error(`health answered ${response.status}: ${response.body}`);
process.stdout.write(JSON.stringify({ loaded, ready: performance.now() }) + "\n");
// Exit now: with Application Insights configured, its exporter would keep the process alive.
process.exit(0);
