/**
 * A test-only HTTP proxy on loopback between `@azure/cosmos` (in the runner)
 * and the embedded Cosmos DB server. It forwards everything, except the
 * requests a test has asked it to spoil: answer with a status of its own
 * (429 with x-ms-retry-after-ms, 503...), answer late (past the client's
 * request timeout), or drop the connection before or after the store has
 * seen the request. Rules are consumed in order, each for a number of
 * matching requests.
 */
import { randomUUID } from "node:crypto";
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What a Cosmos DB REST request does, from its method and path. */
export type RequestKind = "create" | "read" | "replace" | "delete" | "query" | "metadata";

export type Fault =
  /** Answer with this status and a Cosmos-shaped error body, without forwarding. */
  | { readonly kind: "status"; readonly status: number; readonly headers?: Readonly<Record<string, string>> }
  /** Forward, then hold the store's answer this long (the store has applied the request). */
  | { readonly kind: "delay"; readonly ms: number }
  /** Destroy the connection: before forwarding (the store never sees it) or after (it has applied it). */
  | { readonly kind: "drop"; readonly after: boolean };

export interface ProxiedRequest {
  readonly kind: RequestKind;
  readonly method: string;
  readonly path: string;
  /** The fault applied, if any. */
  readonly fault: Fault["kind"] | undefined;
  readonly headers: IncomingMessage["headers"];
}

/** What a matcher sees of a request. */
export type MatchedRequest = Omit<ProxiedRequest, "fault">;

export type Matcher = RequestKind | "documents" | ((request: MatchedRequest) => boolean);

export interface FaultProxy {
  readonly endpoint: string;
  /** Spoils the next `times` requests that match. */
  inject(match: Matcher, fault: Fault, times?: number): void;
  /** Forgets every rule not yet used up. */
  clear(): void;
  /** Every request seen since the last reset, in order. */
  readonly log: ProxiedRequest[];
  resetLog(): void;
  close(): Promise<void>;
}

export const throttle = (retryAfterMs: number, substatus = 3200): Fault => ({
  kind: "status",
  status: 429,
  headers: { "x-ms-retry-after-ms": String(retryAfterMs), "x-ms-substatus": String(substatus) },
});
export const unavailable: Fault = { kind: "status", status: 503 };

export function classify(method: string, path: string, headers: IncomingMessage["headers"]): RequestKind {
  const docs = /^\/dbs\/[^/]+\/colls\/[^/]+\/docs(\/[^/?]+)?\/?(?:\?|$)/.exec(path);
  if (!docs) return "metadata";
  if (!docs[1]) {
    if (method !== "POST") return "metadata";
    // Queries (and the query plans cross-partition queries ask for first) are POSTs to /docs too.
    const isQuery =
      String(headers["x-ms-documentdb-isquery"]).toLowerCase() === "true" ||
      String(headers["x-ms-cosmos-is-query-plan-request"]).toLowerCase() === "true" ||
      /query\+json/i.test(String(headers["content-type"]));
    return isQuery ? "query" : "create";
  }
  return method === "GET" ? "read" : method === "PUT" ? "replace" : method === "DELETE" ? "delete" : "metadata";
}

function matches(match: Matcher, request: MatchedRequest): boolean {
  if (typeof match === "function") return match(request);
  if (match === "documents") return request.kind !== "metadata";
  return request.kind === match;
}

const STATUS_NAMES: Record<number, string> = {
  408: "RequestTimeout",
  429: "TooManyRequests",
  449: "RetryWith",
  500: "InternalServerError",
  503: "ServiceUnavailable",
};

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const rules: Array<{ match: Matcher; fault: Fault; remaining: number }> = [];
  const log: ProxiedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const forward = (
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const out = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
          agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on("error", reject);
        },
      );
      out.on("error", reject);
      out.end(body);
    });

  const reply = (
    res: ServerResponse,
    answer: { status: number; headers: IncomingMessage["headers"]; body: Buffer },
  ) => {
    if (res.destroyed) return;
    const headers = { ...answer.headers };
    delete headers["transfer-encoding"];
    delete headers.connection;
    headers["content-length"] = String(answer.body.length);
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const method = req.method ?? "GET";
        const path = req.url ?? "/";
        const kind = classify(method, path, req.headers);
        const rule = rules.find(
          (r) => r.remaining > 0 && matches(r.match, { kind, method, path, headers: req.headers }),
        );
        if (rule) rule.remaining--;
        const fault = rule?.fault;
        log.push({ kind, method, path, fault: fault?.kind, headers: req.headers });
        if (!fault) return reply(res, await forward(req, body));
        switch (fault.kind) {
          case "status": {
            const payload = Buffer.from(
              JSON.stringify({
                code: STATUS_NAMES[fault.status] ?? String(fault.status),
                message: "Injected by the fault proxy.",
              }),
            );
            return reply(res, {
              status: fault.status,
              headers: {
                "content-type": "application/json",
                "x-ms-activity-id": randomUUID(),
                "x-ms-request-charge": "0",
                ...fault.headers,
              },
              body: payload,
            });
          }
          case "delay": {
            const answer = await forward(req, body);
            await new Promise<void>((resolve) => {
              const timer = setTimeout(() => {
                timers.delete(timer);
                resolve();
              }, fault.ms);
              timers.add(timer);
            });
            return reply(res, answer);
          }
          case "drop":
            if (fault.after) await forward(req, body);
            req.socket.destroy();
            return;
        }
      })().catch(() => {
        if (!res.headersSent) res.writeHead(502).end();
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/`,
    inject: (match, fault, times = 1) => void rules.push({ match, fault, remaining: times }),
    clear: () => void rules.splice(0, rules.length),
    log,
    resetLog: () => void log.splice(0, log.length),
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
