/**
 * Telemetry end to end: the real `applicationinsights` SDK in the local
 * runner sends its envelopes to an ingestion endpoint on loopback, where this
 * test reads them (gunzipped) and checks names, properties and what must
 * never appear (tokens).
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, TEAM } from "../support/http.js";
import { PROJECT_ROOT, startStack, type Stack } from "../support/stack.js";
import { selfSignedCertificate, type Certificate } from "../support/tlsProxy.js";

const run = promisify(execFile);

interface Envelope {
  name: string;
  data?: { baseType?: string; baseData?: { name?: string; properties?: Record<string, string>; metrics?: any[] } };
}

/**
 * The ingestion endpoint. The SDK's exporter always speaks https (it rewrites
 * the endpoint's scheme), so this one has a self-signed certificate that the
 * runner is told to trust through NODE_EXTRA_CA_CERTS.
 */
async function startIngestion(): Promise<{
  server: Server;
  url: string;
  envelopes: Envelope[];
  raw: string[];
  certificate: Certificate;
}> {
  const envelopes: Envelope[] = [];
  const raw: string[] = [];
  const certificate = selfSignedCertificate();
  const server = createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      const text = body.toString("utf8");
      raw.push(text);
      if (req.url?.includes("track")) {
        const parsed = text.trim().startsWith("[")
          ? (JSON.parse(text) as Envelope[])
          : text
              .split("\n")
              .filter(Boolean)
              .map((line) => JSON.parse(line) as Envelope);
        envelopes.push(...parsed);
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ itemsReceived: 1, itemsAccepted: 1, errors: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { server, url, envelopes, raw, certificate };
}

const events = (envelopes: Envelope[], name: string) =>
  envelopes.filter((e) => e.data?.baseType === "EventData" && e.data.baseData?.name === name);

describe("with APPLICATIONINSIGHTS_CONNECTION_STRING", () => {
  let ingestion: Awaited<ReturnType<typeof startIngestion>>;
  let stack: Stack;
  let token: string;
  const responses: Record<string, { requestId: string | null; id?: string }> = {};

  beforeAll(async () => {
    ingestion = await startIngestion();
    stack = await startStack({
      env: {
        APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${randomUUID()};IngestionEndpoint=${ingestion.url}`,
        NODE_EXTRA_CA_CERTS: ingestion.certificate.certFile,
      },
    });
    token = await stack.token({ app: true });
    const created = await call(`${stack.baseUrl}/teams/${TEAM}/operations`, {
      method: "POST",
      token,
      body: { operationType: "cloneTeam" },
      headers: { "client-request-id": "telemetry-test-1" },
    });
    expect(created.status).toBe(201);
    responses.created = { requestId: created.headers.get("request-id"), id: created.json.id };
    const patched = await call(`${stack.baseUrl}/teams/${TEAM}/operations/${created.json.id}`, {
      method: "PATCH",
      token,
      body: { status: "inProgress" },
    });
    expect(patched.status).toBe(200);
    responses.patched = { requestId: patched.headers.get("request-id"), id: created.json.id };
    const rejected = await call(`${stack.baseUrl}/teams/${TEAM}/operations`, {
      method: "POST",
      token,
      body: { operationType: "cloneTeam", secretField: "do-not-log-this-value" },
    });
    expect(rejected.status).toBe(400);
    responses.rejected = { requestId: rejected.headers.get("request-id") };
    // Graceful shutdown flushes what the SDK has buffered.
    await stack.stop();
  });
  afterAll(async () => {
    ingestion?.server.closeAllConnections();
    await new Promise<void>((resolve) => ingestion?.server.close(() => resolve()));
    ingestion?.certificate.remove();
  });

  it("sends OperationCreated with the correlation properties", () => {
    const [created] = events(ingestion.envelopes, "OperationCreated");
    expect(created, JSON.stringify(ingestion.envelopes.map((e) => e.data?.baseData?.name))).toBeDefined();
    expect(created!.data!.baseData!.properties).toMatchObject({
      "request-id": responses.created!.requestId,
      "client-request-id": "telemetry-test-1",
      trigger: "HTTP",
      teamId: TEAM,
      operationId: responses.created!.id,
      operationType: "cloneTeam",
      status: "notStarted",
    });
  });

  it("sends OperationStatusChanged with from and to", () => {
    const [changed] = events(ingestion.envelopes, "OperationStatusChanged");
    expect(changed!.data!.baseData!.properties).toMatchObject({
      "request-id": responses.patched!.requestId,
      operationId: responses.patched!.id,
      from: "notStarted",
      to: "inProgress",
    });
  });

  it("sends OperationRejected with the reason and property names, never the payload", () => {
    const [rejected] = events(ingestion.envelopes, "OperationRejected");
    expect(rejected!.data!.baseData!.properties).toMatchObject({
      "request-id": responses.rejected!.requestId,
      reasonCode: "invalidRequest",
      status: "400",
      targets: "secretField",
    });
    expect(ingestion.raw.join("\n")).not.toContain("do-not-log-this-value");
  });

  it("sends the store's request charge and latency as metrics", () => {
    const metrics = ingestion.envelopes.filter((e) => e.data?.baseType === "MetricData");
    const names = metrics.flatMap((m) => (m.data!.baseData!.metrics ?? []).map((x: { name: string }) => x.name));
    expect(names).toEqual(expect.arrayContaining(["StoreRequestCharge", "StoreLatencyMs"]));
    const create = metrics.find((m) => m.data!.baseData!.properties?.storeOperation === "create");
    expect(create!.data!.baseData!.properties).toMatchObject({ trigger: "HTTP", teamId: TEAM });
  });

  it("never sends a bearer token or any part of one", () => {
    const all = ingestion.raw.join("\n");
    for (const part of token.split(".")) expect(all).not.toContain(part);
    expect(all).not.toMatch(/Bearer /i);
  });
});

/**
 * Loads the shipped bundle as the host does, in a fresh process, and lists the
 * bundle's files that were loaded, through a module loader hook.
 */
async function bundleFilesLoaded(env: Record<string, string>): Promise<string[]> {
  const hook = [
    "let port;",
    "export function initialize(data) { port = data.port; }",
    "export async function load(url, context, next) { port.postMessage(url); return next(url, context); }",
  ].join(" ");
  const script = `
    import { register } from "node:module";
    import { MessageChannel } from "node:worker_threads";
    const { port1, port2 } = new MessageChannel();
    const loaded = [];
    port1.on("message", (url) => loaded.push(url));
    register("data:text/javascript,${encodeURIComponent(hook)}", { data: { port: port2 }, transferList: [port2] });
    const { loadFunctionApp } = await import("./dist/local/functionsHost.js");
    await loadFunctionApp(process.cwd());
    await new Promise((resolve) => setTimeout(resolve, 200));
    port1.close();
    console.log(JSON.stringify(loaded));
    process.exit(0);`;
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH,
      AUTH_AUDIENCES: "api://test",
      AUTH_TENANTS: "*",
      COSMOS_ENDPOINT: "https://127.0.0.1:1/",
      ...env,
    },
  });
  return (JSON.parse(stdout) as string[])
    .filter((url) => url.startsWith("file:"))
    .map((url) => relative(PROJECT_ROOT, fileURLToPath(url)));
}

describe("the SDK in the bundle", () => {
  // The bundle's files that hold the SDK, from esbuild's metafile written by `npm run build`.
  const meta = JSON.parse(readFileSync(join(PROJECT_ROOT, "dist/bundle-meta.json"), "utf8")) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  const sdkFiles = Object.entries(meta.outputs)
    .filter(([, output]) =>
      Object.keys(output.inputs).some((input) => input.includes("node_modules/applicationinsights/")),
    )
    .map(([file]) => file);

  it("is in a chunk of its own, not in the entry", () => {
    expect(sdkFiles.length).toBeGreaterThan(0);
    expect(sdkFiles).not.toContain("dist-bundle/index.js");
  });

  it("is not even loaded without a connection string, so nothing can be sent", async () => {
    const loaded = await bundleFilesLoaded({});
    expect(loaded).toContain("dist-bundle/index.js");
    expect(loaded.filter((file) => sdkFiles.includes(file))).toEqual([]);
  });

  it("is loaded when a connection string is set", async () => {
    const loaded = await bundleFilesLoaded({
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${randomUUID()};IngestionEndpoint=https://127.0.0.1:9/`,
    });
    expect(loaded.filter((file) => sdkFiles.includes(file))).not.toEqual([]);
  });
});
