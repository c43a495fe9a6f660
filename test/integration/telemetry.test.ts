/**
 * Telemetry end to end: the app's OpenTelemetry pipeline and the Azure Monitor
 * exporter in the local runner send their envelopes to an ingestion endpoint
 * on loopback, where this test reads them (gunzipped) and checks names,
 * properties, correlation, the cloud role, metric dimensions and what must
 * never appear (tokens, payloads).
 */
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultProxy, unavailable, type FaultProxy } from "../support/faultProxy.js";
import { call, TEAM } from "../support/http.js";
import { PROJECT_ROOT, startStack, type Stack } from "../support/stack.js";
import { TELEMETRY } from "../../shared/telemetry.js";
import { events, exceptions, metricsNamed, startIngestion, type Ingestion } from "../support/ingestion.js";

const run = promisify(execFile);

/** A W3C traceparent as a caller (or the Functions host) sends it; its trace id becomes operation_Id. */
const TRACE_ID = randomBytes(16).toString("hex");
const TRACE_PARENT = `00-${TRACE_ID}-${randomBytes(8).toString("hex")}-01`;

describe("with APPLICATIONINSIGHTS_CONNECTION_STRING", () => {
  let ingestion: Ingestion;
  let proxy: FaultProxy;
  let stack: Stack;
  let token: string;
  const responses: Record<string, { requestId: string | null; id?: string; status?: number }> = {};
  let batchAnswers: Array<{ id: string; status: number; headers: Record<string, string> }> = [];

  beforeAll(async () => {
    ingestion = await startIngestion();
    stack = await startStack({
      env: {
        APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${randomUUID()};IngestionEndpoint=${ingestion.url}`,
        NODE_EXTRA_CA_CERTS: ingestion.certificate.certFile,
      },
      cosmosEndpointFor: async (endpoint) => {
        proxy = await startFaultProxy(endpoint);
        return proxy.endpoint;
      },
    });
    token = await stack.token({ app: true });
    const created = await call(`${stack.baseUrl}/teams/${TEAM}/operations`, {
      method: "POST",
      token,
      body: { operationType: "cloneTeam" },
      headers: { "client-request-id": "telemetry-test-1", traceparent: TRACE_PARENT },
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
    // Two more creates: with bounded dimensions they add to the first create's metric series, not series of their own.
    for (const n of [2, 3]) {
      const more = await call(`${stack.baseUrl}/teams/${TEAM}/operations`, {
        method: "POST",
        token,
        body: { operationType: "archiveTeam" },
      });
      expect(more.status).toBe(201);
      responses[`created${n}`] = { requestId: more.headers.get("request-id"), id: more.json.id };
    }
    // A JSON batch: a read, a refused create and a request that depends on it (424).
    const batched = await call(`${stack.baseUrl}/$batch`, {
      method: "POST",
      token,
      headers: { "client-request-id": "telemetry-batch" },
      body: {
        requests: [
          { id: "read", method: "GET", url: `/teams/${TEAM}/operations/${created.json.id}` },
          {
            id: "refused",
            method: "POST",
            url: `/teams/${TEAM}/operations`,
            headers: { "Content-Type": "application/json" },
            body: { operationType: "cloneTeam", secretField: "do-not-log-this-batch-value" },
          },
          { id: "after", method: "GET", url: `/teams/${TEAM}/operations`, dependsOn: ["refused"] },
        ],
      },
    });
    expect(batched.status).toBe(200);
    responses.batch = { requestId: batched.headers.get("request-id") };
    batchAnswers = batched.json.responses;
    // The store down for a read: a 503 to the caller, reported as an exception.
    proxy.inject("read", unavailable, 20);
    const outage = await call(`${stack.baseUrl}/teams/${TEAM}/operations/${created.json.id}`, { token });
    proxy.clear();
    responses.outage = { requestId: outage.headers.get("request-id"), status: outage.status };
    // Graceful shutdown flushes what the SDK has buffered.
    await stack.stop();
  });
  afterAll(async () => {
    await proxy?.close();
    await ingestion?.close();
  });

  it("sends OperationCreated with the correlation properties, under the caller's trace as operation_Id", () => {
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
    // The host continues the caller's trace (a new span of it): the same operation_Id as its request telemetry.
    expect(created!.tags?.["ai.operation.id"]).toBe(TRACE_ID);
    expect(created!.tags?.["ai.operation.parentId"]).toMatch(/^[0-9a-f]{16}$/);
  });

  it("gives every envelope the app's cloud role", () => {
    expect(ingestion.envelopes.length).toBeGreaterThan(0);
    for (const envelope of ingestion.envelopes) {
      expect(envelope.tags?.["ai.cloud.role"], envelope.name).toBe("team-operations-api");
    }
  });

  it("sends OperationStatusChanged with from and to, under a trace of its own", () => {
    const [changed] = events(ingestion.envelopes, "OperationStatusChanged");
    expect(changed!.data!.baseData!.properties).toMatchObject({
      "request-id": responses.patched!.requestId,
      operationId: responses.patched!.id,
      from: "notStarted",
      to: "inProgress",
    });
    expect(changed!.tags?.["ai.operation.id"]).toMatch(/^[0-9a-f]{32}$/);
    expect(changed!.tags?.["ai.operation.id"]).not.toBe(TRACE_ID);
  });

  it("sends OperationRejected with the reason and property names, never the payload", () => {
    const [rejected] = events(ingestion.envelopes, "OperationRejected").filter(
      (e) => e.data!.baseData!.properties?.["request-id"] === responses.rejected!.requestId,
    );
    expect(rejected!.data!.baseData!.properties).toMatchObject({
      reasonCode: "invalidRequest",
      status: "400",
      targets: "secretField",
    });
    expect(ingestion.raw.join("\n")).not.toContain("do-not-log-this-value");
  });

  it("sends one BatchRequestCompleted per request of a batch, under the batch's request id", () => {
    const completed = events(ingestion.envelopes, "BatchRequestCompleted").map((e) => e.data!.baseData!.properties!);
    expect(completed.map((p) => p.batchItemId).sort()).toEqual(["after", "read", "refused"]);
    const expected = { read: ["getOperation", "200"], refused: ["createOperation", "400"], after: ["batch", "424"] };
    for (const properties of completed) {
      const answer = batchAnswers.find((a) => a.id === properties.batchItemId)!;
      const [functionName, status] = expected[properties.batchItemId as keyof typeof expected];
      expect(properties).toMatchObject({
        "request-id": responses.batch!.requestId,
        "client-request-id": "telemetry-batch",
        trigger: "HTTP",
        itemRequestId: answer.headers["request-id"],
        functionName,
        status,
      });
      expect(Number(properties.durationMs)).toBeGreaterThanOrEqual(0);
    }
  });

  it("reports what each request of a batch does under that request's own id, never its payload", () => {
    const refused = batchAnswers.find((a) => a.id === "refused")!;
    const [rejected] = events(ingestion.envelopes, "OperationRejected").filter(
      (e) => e.data!.baseData!.properties?.["request-id"] === refused.headers["request-id"],
    );
    expect(rejected!.data!.baseData!.properties).toMatchObject({
      "client-request-id": "telemetry-batch",
      teamId: TEAM,
      reasonCode: "invalidRequest",
      targets: "secretField",
    });
    expect(ingestion.raw.join("\n")).not.toContain("do-not-log-this-batch-value");
  });

  it("sends a store outage as an exception with the request's correlation properties", () => {
    expect(responses.outage!.status).toBe(503);
    const outage = exceptions(ingestion.envelopes).find(
      (e) => e.data!.baseData!.properties?.["request-id"] === responses.outage!.requestId,
    );
    expect(outage, JSON.stringify(exceptions(ingestion.envelopes))).toBeDefined();
    expect(outage!.data!.baseData!.properties).toMatchObject({ trigger: "HTTP", teamId: TEAM });
    expect(outage!.data!.baseData!.exceptions?.[0]).toMatchObject({ typeName: "GraphError" });
    expect(outage!.tags?.["ai.operation.id"]).toMatch(/^[0-9a-f]{32}$/);
  });

  it("sends the store's request charge and latency as metrics", () => {
    for (const name of ["StoreRequestCharge", "StoreLatencyMs"]) {
      const create = metricsNamed(ingestion.envelopes, name).find(
        (m) => m.data!.baseData!.properties?.storeOperation === "create",
      );
      expect(create!.data!.baseData!.properties).toEqual({
        storeOperation: "create",
        statusCode: "201",
        trigger: "HTTP",
      });
    }
  });

  it("keeps metric dimensions bounded: no request, team or operation ids, one series for all three creates", () => {
    const metrics = ingestion.envelopes.filter((e) => e.data?.baseType === "MetricData");
    const perRequest = Object.values(responses)
      .flatMap((r) => [r.requestId, r.id])
      .filter(Boolean) as string[];
    // Each metric's own few dimensions, each with a handful of values.
    const dimensions: Record<string, string[]> = {
      [TELEMETRY.metrics.storeRequestCharge]: ["statusCode", "storeOperation", "trigger"],
      [TELEMETRY.metrics.storeLatencyMs]: ["statusCode", "storeOperation", "trigger"],
      [TELEMETRY.metrics.changeFeedLagSeconds]: ["consumer"],
      [TELEMETRY.metrics.queueDepth]: ["queue"],
    };
    for (const metric of metrics.filter((m) => m.data!.baseData!.metrics?.[0]?.name !== "_OTELRESOURCE_")) {
      const properties = metric.data!.baseData!.properties ?? {};
      const name = metric.data!.baseData!.metrics![0]!.name;
      expect(Object.keys(properties).sort(), name).toEqual(dimensions[name]);
      for (const value of Object.values(properties)) {
        expect(perRequest).not.toContain(value);
        expect(value).not.toBe(TEAM);
      }
    }
    const creates = metricsNamed(ingestion.envelopes, "StoreRequestCharge").filter(
      (m) => m.data!.baseData!.properties?.storeOperation === "create",
    );
    expect(creates).toHaveLength(1);
    expect(creates[0]!.data!.baseData!.metrics![0]).toMatchObject({ name: "StoreRequestCharge", count: 3 });
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

describe("the telemetry pipeline in the bundle", () => {
  // The bundle's files that hold it, from esbuild's metafile written by `npm run build`.
  const meta = JSON.parse(readFileSync(join(PROJECT_ROOT, "dist/bundle-meta.json"), "utf8")) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  const holding = (pkg: string) =>
    Object.entries(meta.outputs)
      .filter(([, output]) => Object.keys(output.inputs).some((input) => input.includes(`node_modules/${pkg}/`)))
      .map(([file]) => file);
  const sdkFiles = [
    ...new Set([...holding("@azure/monitor-opentelemetry-exporter"), ...holding("@opentelemetry/sdk-logs")]),
  ];

  it("is in a chunk of its own, not in the entry", () => {
    expect(sdkFiles.length).toBeGreaterThan(0);
    expect(sdkFiles).not.toContain("dist-bundle/index.js");
  });

  it("has the exporter without the distro around it (its Node SDK, instrumentations, OTLP exporters)", () => {
    for (const pkg of ["applicationinsights", "@azure/monitor-opentelemetry", "@opentelemetry/sdk-node"]) {
      expect(holding(pkg), pkg).toEqual([]);
    }
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
