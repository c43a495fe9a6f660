/**
 * The function app in this process, from its TypeScript sources, loaded as
 * the Functions worker loads an app (`local/functionsHost.ts`: the files a
 * package.json `main` names, registering through `@azure/functions-core`),
 * with the in-memory store installed as the process's store. A request is an
 * `HttpRequest` and an `InvocationContext` of `@azure/functions`, built as the
 * library's own tests build them, handed to the handler the function
 * registered with `app.http`; nothing listens on a port and nothing is
 * spawned. For what only a real host, store or process shows (the host's
 * refusals, Cosmos DB's answers, shutdown, faults on the wire), the tests
 * start the local runner instead (`stack.ts`).
 *
 * One app per process (the worker's rule, and the configuration is read once):
 * vitest runs each test file in its own process.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  HttpRequest,
  HttpResponse,
  InvocationContext,
  type HttpResponseInit,
  type RetryContext,
} from "@azure/functions";
import { DEV_AUDIENCE, ensureDevKeys, mintDevToken, type TokenOptions } from "../../local/devIdentity.js";
import { loadFunctionApp, type RegisteredFunction } from "../../local/functionsHost.js";
import { matchRoute } from "../../shared/http/routes.js";
import { useOperationStore } from "../../shared/store/operations.js";
import type { ApiResponse } from "./http.js";
import { MemoryOperationStore } from "./memoryStore.js";
import { PROJECT_ROOT } from "./stack.js";

/** A package.json whose `main` names the app's sources: the entry file and every function file. */
const SOURCE_APP = join(PROJECT_ROOT, "test/fixtures/source-app");
/** Where requests appear to come from; the route prefix is host.json's. */
export const BASE_URL = "http://127.0.0.1:7071/v1.0";

export interface InProcessResponse extends ApiResponse {
  /** The function that answered. */
  readonly functionName: string;
}

export interface LogLine {
  readonly level: string;
  readonly message: string;
}

export interface InProcessApp {
  readonly store: MemoryOperationStore;
  readonly functions: readonly RegisteredFunction[];
  token(options?: TokenOptions): Promise<string>;
  /** A request on a path below the route prefix (query included), answered by the function whose route matches. */
  request(
    method: string,
    path: string,
    init?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<InProcessResponse>;
  /**
   * Invokes a function by name with its trigger's input, as the worker would; returns what it returned. With a
   * `retryContext`, the invocation is that retry of the function's retry policy, as the host numbers them.
   */
  invoke(
    name: string,
    input: unknown,
    init?: { triggerMetadata?: Record<string, unknown>; retryContext?: RetryContext },
  ): Promise<Invocation>;
  /** Everything the app logged through its invocation contexts, in order. */
  readonly logs: LogLine[];
}

export interface Invocation {
  readonly result: unknown;
  readonly context: InvocationContext;
}

let invocations = 0;

function invocationContext(
  functionName: string,
  logs: LogLine[],
  triggerMetadata?: Record<string, unknown>,
  retryContext?: RetryContext,
) {
  invocations++;
  return new InvocationContext({
    invocationId: `00000000-0000-4000-8000-${String(invocations).padStart(12, "0")}`,
    functionName,
    triggerMetadata,
    retryContext,
    logHandler: (level, ...args) => logs.push({ level, message: args.map(String).join(" ") }),
  });
}

/** The response as a client reads it: HttpResponse gives the headers and the body text the host would send. */
async function asResponse(init: HttpResponseInit, functionName: string): Promise<InProcessResponse> {
  const response = new HttpResponse(init);
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json, functionName };
}

/**
 * Loads the app with the settings a local run has (a development signing key, any tenant) and a store endpoint
 * nothing ever calls: the in-memory store is the process's store before the first request.
 */
export async function loadInProcessApp(settings: Record<string, string> = {}): Promise<InProcessApp> {
  const keys = await ensureDevKeys(mkdtempSync(join(tmpdir(), "teamops-inprocess-")));
  Object.assign(process.env, {
    AUTH_JWKS_FILE: keys.jwksFile,
    AUTH_AUDIENCES: DEV_AUDIENCE,
    AUTH_TENANTS: "*",
    COSMOS_ENDPOINT: "http://127.0.0.1:1/",
    ...settings,
  });
  const store = new MemoryOperationStore();
  useOperationStore(store);
  const functions = await loadFunctionApp(SOURCE_APP);
  const logs: LogLine[] = [];
  const named = (name: string) => {
    const fn = functions.find((f) => f.name === name);
    if (!fn) throw new Error(`No function named ${name} is registered.`);
    return fn;
  };

  return {
    store,
    functions,
    logs,
    token: (options) => mintDevToken(options, keys),
    async request(method, path, init = {}) {
      const [route = ""] = path.split("?");
      // The host's routing: the registered template that matches, else the catch-all.
      const match = matchRoute(route, method);
      const fn = named(match?.route.name ?? "fallback");
      const headers: Record<string, string> = { ...init.headers };
      if (init.token) headers.authorization = `Bearer ${init.token}`;
      let body = init.rawBody;
      if (init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers["content-type"] ??= "application/json";
      }
      if (body !== undefined) headers["content-length"] ??= String(Buffer.byteLength(body));
      const request = new HttpRequest({
        method,
        url: `${BASE_URL}/${path}`,
        headers,
        params: match?.params ?? { path: route },
        ...(body !== undefined ? { body: { string: body } } : {}),
      });
      const answer = (await fn.handler(request, invocationContext(fn.name, logs))) as HttpResponseInit;
      return asResponse(answer, fn.name);
    },
    async invoke(name, input, init = {}) {
      const fn = named(name);
      const context = invocationContext(fn.name, logs, init.triggerMetadata, init.retryContext);
      const result = await fn.handler(input, context);
      return { result, context };
    },
  };
}
