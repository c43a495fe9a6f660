/**
 * requests.http, sent as the REST Client extension sends it: in order, with
 * file variables, and with the variables it captures from named requests'
 * responses (`{{create.response.body.$.id}}`, `{{create.response.headers.ETag}}`),
 * against a runner this test starts. Every request must succeed (the last
 * reads a deleted operation: Graph's 404), and together they must cover every
 * route the API serves, as its own OpenAPI description lists them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { PROJECT_ROOT, startStack, type Stack } from "../support/stack.js";

interface HttpFileRequest {
  readonly title: string;
  readonly name: string | undefined;
  readonly method: string;
  readonly url: string;
  readonly headers: ReadonlyArray<[string, string]>;
  readonly body: string;
}

/** The .http format: `###` separates requests; `@name = value` defines a variable; `# @name x` names a request. */
function parseHttpFile(text: string): { variables: Map<string, string>; requests: HttpFileRequest[] } {
  const variables = new Map<string, string>();
  const requests: HttpFileRequest[] = [];
  for (const block of text.split(/^###.*$/m)) {
    const title = "";
    let name: string | undefined;
    const lines = block.split("\n");
    let at = 0;
    let requestLine: string | undefined;
    for (; at < lines.length; at++) {
      const line = lines[at]!.trim();
      const named = /^#\s*@name\s+(\w+)/.exec(line);
      if (named) name = named[1];
      if (line === "" || line.startsWith("#") || line.startsWith("//")) continue;
      const variable = /^@(\w+)\s*=\s*(.*)$/.exec(line);
      if (variable) {
        variables.set(variable[1]!, variable[2]!);
        continue;
      }
      requestLine = line;
      at++;
      break;
    }
    if (!requestLine) continue;
    // The method, then the URL to the end of the line (it may hold spaces, as REST Client allows), less a version.
    const [, method, url] = /^(\S+)\s+(.*?)(?:\s+HTTP\/[\d.]+)?$/.exec(requestLine) as unknown as [
      string,
      string,
      string,
    ];
    const headers: Array<[string, string]> = [];
    for (; at < lines.length && lines[at]!.trim() !== ""; at++) {
      const header = /^([\w-]+):\s*(.*)$/.exec(lines[at]!.trim());
      if (header) headers.push([header[1]!, header[2]!]);
    }
    requests.push({ title, name, method, url, headers, body: lines.slice(at).join("\n").trim() });
  }
  return { variables, requests };
}

describe("requests.http", () => {
  let stack: Stack;
  let receiver: Receiver;
  let tokens: { delegated: string; app: string };
  const file = parseHttpFile(readFileSync(join(PROJECT_ROOT, "requests.http"), "utf8"));
  const results: Array<{ request: HttpFileRequest; url: string; status: number; text: string }> = [];

  beforeAll(async () => {
    receiver = await startReceiver("/notifications");
    stack = await startStack({ env: { SUBSCRIPTION_ALLOW_LOOPBACK: "true" } });
    const team = file.variables.get("team")!;
    const user = file.variables.get("user")!;
    tokens = {
      delegated: await stack.token({ groups: [team], user }),
      app: await stack.token({ app: true }),
    };
    const variables = new Map(file.variables);
    variables.set("base", stack.baseUrl);
    variables.set("delegatedToken", tokens.delegated);
    variables.set("appToken", tokens.app);
    variables.set("receiver", receiver.url);
    const responses = new Map<string, { json: unknown; headers: Headers }>();
    const resolve = (text: string, depth = 0): string =>
      text.replace(/\{\{([^}]+)\}\}/g, (_, expression: string) => {
        if (depth > 5) throw new Error(`variables nest too deeply at ${expression}`);
        // REST Client's system variable: {{$datetime iso8601 1 d}} is a day from now.
        const datetime = /^\$datetime iso8601 (-?\d+) ([dhm])$/.exec(expression);
        if (datetime) {
          const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[datetime[2] as "d" | "h" | "m"];
          return new Date(Date.now() + Number(datetime[1]) * unit).toISOString();
        }
        const reference = /^(\w+)\.response\.(body\.\$\.|headers\.)(.+)$/.exec(expression);
        if (reference) {
          const response = responses.get(reference[1]!);
          if (!response) throw new Error(`${expression}: request ${reference[1]} has not been sent`);
          if (reference[2] === "headers.") return response.headers.get(reference[3]!) ?? "";
          return String((response.json as Record<string, unknown>)[reference[3]!]);
        }
        const value = variables.get(expression);
        if (value === undefined) throw new Error(`{{${expression}}} names no variable`);
        return resolve(value, depth + 1);
      });
    for (const request of file.requests) {
      const url = resolve(request.url);
      const headers = Object.fromEntries(request.headers.map(([n, v]) => [n, resolve(v)]));
      const response = await fetch(url, {
        method: request.method,
        headers,
        body: request.body ? resolve(request.body) : undefined,
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (request.name) responses.set(request.name, { json, headers: response.headers });
      results.push({ request, url, status: response.status, text });
    }
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  it("succeeds request by request, and the last finds the operation deleted", () => {
    expect(results.length).toBeGreaterThan(30);
    const last = results.at(-1)!;
    for (const result of results.slice(0, -1)) {
      expect(result.status, `${result.request.method} ${result.url}: ${result.text.slice(0, 300)}`).toBeLessThan(300);
    }
    expect(last.status).toBe(404);
    expect(JSON.parse(last.text)).toMatchObject({ error: { code: "itemNotFound" } });
  });

  it("covers every route of the API's OpenAPI description, with every method", async () => {
    const openapi = (await (await fetch(`${stack.baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const sent = results.map((r) => ({ method: r.request.method, path: new URL(r.url).pathname }));
    const missing: string[] = [];
    for (const [template, operations] of Object.entries(openapi.paths)) {
      const pattern = new RegExp(
        `^/v1\\.0${template.replace(/[.$()]/g, "\\$&").replace(/\\\{[^}]+\\\}|\{[^}]+\}/g, "[^/]+")}$`,
      );
      for (const method of Object.keys(operations).filter((m) => ["get", "post", "patch", "delete"].includes(m))) {
        if (!sent.some((s) => s.method === method.toUpperCase() && pattern.test(decodeURIComponent(s.path)))) {
          missing.push(`${method.toUpperCase()} ${template}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
