/**
 * The request as the host sends it to the worker: an HTTP request turned into the invocation request
 * (`RpcInvocationRequest`) of the host's `ToRpcHttp`, with the trigger's binding data and the W3C trace context.
 */
import type { IncomingMessage } from "node:http";
import { parseTraceParent } from "@opentelemetry/core";
import { RandomIdGenerator } from "@opentelemetry/sdk-trace-base";
import { routeValues, type CompiledRouteTemplate } from "../../shared/http/routeTemplate.js";
import type { RegisteredFunction, RpcHttpData, RpcInvocationRequest, RpcNullableString } from "../functionsHost.js";

function nullable(entries: Iterable<[string, string]>): Record<string, RpcNullableString> {
  const result: Record<string, RpcNullableString> = {};
  for (const [name, value] of entries) result[name] = { value };
  return result;
}

/** The values of one header, in order (what `headersDistinct[name]` gives, without building it for every header). */
export function headerValues(raw: readonly string[], name: string): string[] {
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

/** A function's route, compiled as the host's routing compiles it. */
export interface Route extends CompiledRouteTemplate {
  readonly fn: RegisteredFunction;
  readonly methods: ReadonlySet<string>;
}

/**
 * The invocation request for an HTTP request the route matched: the request itself, and the HTTP trigger's binding
 * data (the route values, Query and Headers; the request itself is left out, RpcHttpTriggerMetadataRemoved). With
 * HTTP streams the model builds the request from these and the forwarded request.
 */
export function httpInvocation(
  invocationId: string,
  route: Route,
  match: RegExpExecArray,
  req: IncomingMessage,
  url: URL,
  body: Buffer | undefined,
): RpcInvocationRequest {
  const params = routeValues(route, match);
  const query = url.search === "" ? [] : queryOf(url.searchParams);
  return {
    invocationId,
    functionId: route.fn.functionId,
    inputData: [{ name: route.fn.trigger.name, data: { http: rpcHttp(req, url, query, params, body) } }],
    triggerMetadata: {
      ...Object.fromEntries(Object.entries(params).map(([name, value]) => [name, { string: value }])),
      Query: { json: JSON.stringify(Object.fromEntries(query)) },
      Headers: { json: JSON.stringify(req.headers) },
    },
    traceContext: traceContextFor(req),
  };
}
