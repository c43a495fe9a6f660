/**
 * Entra ID end to end, as the app runs in Azure: no account key and no
 * instrumentation-key ingestion, only tokens of the app's user-assigned
 * managed identity, fetched from a loopback identity endpoint that speaks the
 * App Service protocol (IDENTITY_ENDPOINT, IDENTITY_HEADER). The store is the
 * embedded Cosmos DB server over TLS (the Cosmos SDK sends Entra ID tokens
 * only over TLS) and the ingestion endpoint is https too; both record the
 * Authorization header of every request they get.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import { Agent, createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { CosmosClient } from "@azure/cosmos";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDevKeys, mintDevToken, type DevKeys } from "../../local/devIdentity.js";
import { call, TEAM } from "../support/http.js";
import { startManagedIdentityEndpoint, type ManagedIdentityEndpoint } from "../support/managedIdentity.js";
import { spawnRunner, type Runner } from "../support/stack.js";
import { selfSignedCertificate, type Certificate } from "../support/tlsProxy.js";
import { COSMOS_DEFAULTS } from "../../shared/config.js";

const CLIENT_ID = randomUUID();
const MONITOR_RESOURCE = "https://monitor.azure.com";
/** The function app's name, as Azure sets it: the cloud role of everything the app sends. */
const SITE_NAME = "func-teamops-mi-test";

/** What the test reads of an ingestion envelope. */
interface Envelope {
  readonly tags?: Record<string, string>;
  readonly data?: {
    readonly baseType?: string;
    readonly baseData?: {
      readonly name?: string;
      readonly properties?: Record<string, string>;
      readonly metrics?: ReadonlyArray<{ name: string }>;
    };
  };
}

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

const record = (req: IncomingMessage): Recorded => ({
  method: req.method ?? "",
  url: req.url ?? "",
  authorization: req.headers.authorization,
});

/** The token inside a Cosmos DB Authorization header (`type=aad&ver=1.0&sig=<token>`, URL-encoded). */
function cosmosAuthorization(header: string | undefined): { type: string | null; sig: string | null } {
  const fields = new URLSearchParams(decodeURIComponent(header ?? ""));
  return { type: fields.get("type"), sig: fields.get("sig") };
}

describe("managed identity (App Service protocol) for Cosmos DB and Application Insights", () => {
  let certificate: Certificate;
  let identity: ManagedIdentityEndpoint;
  let store: Server;
  let ingestion: Server;
  let jwks: Server;
  let runner: Runner;
  let devDir: string;
  let keys: DevKeys;
  const storeRequests: Recorded[] = [];
  const ingestionRequests: Array<Recorded & { body: string }> = [];
  const statuses: Record<string, number> = {};
  let createdId = "";

  beforeAll(async () => {
    certificate = selfSignedCertificate();
    identity = await startManagedIdentityEndpoint();

    const { createHttpsServer: createCosmosServer } = await import("@vercel/cosmosdb-server");
    store = createCosmosServer({ key: certificate.key, cert: certificate.cert, keepAlive: true });
    const storePort = await listen(store);
    const endpoint = `https://127.0.0.1:${storePort}/`;
    // The infrastructure creates the database and container in Azure; here a key-holding admin does, before the
    // app starts, so that the app's own calls are the only ones recorded.
    const admin = new CosmosClient({ endpoint, key: "admin", agent: new Agent({ ca: certificate.cert }) });
    const { database } = await admin.databases.createIfNotExists({ id: COSMOS_DEFAULTS.database });
    await database.containers.createIfNotExists({ id: "operations", partitionKey: { paths: ["/teamId"] } });
    admin.dispose();
    store.prependListener("request", (req: IncomingMessage) => storeRequests.push(record(req)));

    ingestion = createHttpsServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        let body = Buffer.concat(chunks);
        if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
        ingestionRequests.push({ ...record(req), body: body.toString("utf8") });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ itemsReceived: 1, itemsAccepted: 1, errors: [] }));
      });
    });
    const ingestionPort = await listen(ingestion);

    devDir = mkdtempSync(join(tmpdir(), "teamops-dev-"));
    keys = await ensureDevKeys(devDir);
    // In Azure (WEBSITE_SITE_NAME set) the app refuses a JWKS file: the signing keys come from a key set URL.
    const keySet = readFileSync(keys.jwksFile);
    jwks = createHttpServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(keySet));
    const jwksPort = await listen(jwks);
    runner = await spawnRunner({
      COSMOS_ENDPOINT: endpoint,
      COSMOS_DATABASE: COSMOS_DEFAULTS.database,
      COSMOS_CONTAINER: "operations",
      AZURE_CLIENT_ID: CLIENT_ID,
      ...identity.env,
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${randomUUID()};IngestionEndpoint=https://127.0.0.1:${ingestionPort}/`,
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `ClientId=${CLIENT_ID};Authorization=AAD`,
      NODE_EXTRA_CA_CERTS: certificate.certFile,
      TEAMOPS_DEV_DIR: devDir,
      WEBSITE_SITE_NAME: SITE_NAME,
      // As in Azure: webhook receivers on loopback are refused there.
      SUBSCRIPTION_ALLOW_LOOPBACK: "false",
      AUTH_JWKS_URI: `http://127.0.0.1:${jwksPort}/keys`,
      LOCAL_QUEUES: "off",
    });

    const token = await mintDevToken({ app: true }, keys);
    const base = `${runner.baseUrl}/teams/${TEAM}/operations`;
    const created = await call(base, { method: "POST", token, body: { operationType: "cloneTeam" } });
    statuses.create = created.status;
    const id = String(created.json?.id);
    createdId = id;
    statuses.read = (await call(`${base}/${id}`, { token })).status;
    statuses.list = (await call(base, { token })).status;
    statuses.patch = (await call(`${base}/${id}`, { method: "PATCH", token, body: { status: "succeeded" } })).status;
    statuses.delete = (await call(`${base}/${id}`, { method: "DELETE", token })).status;
    // A graceful stop flushes the telemetry the SDK has buffered.
    await runner.stop();
  }, 120_000);

  afterAll(async () => {
    await runner?.stop();
    await Promise.all([store && close(store), ingestion && close(ingestion), jwks && close(jwks), identity?.close()]);
    certificate?.remove();
    if (devDir) rmSync(devDir, { recursive: true, force: true });
  });

  it("serves every request with no account key configured", () => {
    expect(statuses, runner.output()).toEqual({ create: 201, read: 200, list: 200, patch: 200, delete: 204 });
  });

  it("sends every store call with an Entra ID token the identity endpoint issued for Cosmos DB to the app's client id, never a key", () => {
    expect(storeRequests.length).toBeGreaterThanOrEqual(5);
    for (const request of storeRequests) {
      const { type, sig } = cosmosAuthorization(request.authorization);
      expect(type, `${request.method} ${request.url}`).toBe("aad");
      const issued = identity.issuedFor(sig ?? "");
      expect(issued, `${request.method} ${request.url}: a token the identity endpoint did not issue`).toBeDefined();
      expect(issued?.clientId).toBe(CLIENT_ID);
      expect(issued?.resource).not.toContain("monitor");
    }
    expect(identity.refused).toEqual([]);
  });

  it("sends every ingestion request with a bearer token issued for Azure Monitor to the app's client id", () => {
    const tracks = ingestionRequests.filter((r) => r.url.includes("track"));
    expect(tracks.length, runner.output()).toBeGreaterThan(0);
    for (const request of tracks) {
      const token = /^Bearer (.+)$/.exec(request.authorization ?? "")?.[1];
      const issued = identity.issuedFor(token ?? "");
      expect(issued, `ingestion got ${request.authorization ?? "no Authorization header"}`).toBeDefined();
      expect(issued?.clientId).toBe(CLIENT_ID);
      expect(issued?.resource.replace(/\/$/, "")).toBe(MONITOR_RESOURCE);
    }
    const sent = tracks.map((r) => r.body).join("\n");
    expect(sent).toContain("OperationCreated");
    expect(sent).toContain("StoreRequestCharge");
  });

  it("sends the first request's event and store metrics under the function app's name as the cloud role", () => {
    const envelopes = ingestionRequests
      .filter((r) => r.url.includes("track"))
      .flatMap((r): Envelope[] =>
        r.body.trim().startsWith("[")
          ? (JSON.parse(r.body) as Envelope[])
          : r.body
              .split("\n")
              .filter(Boolean)
              .map((line) => JSON.parse(line) as Envelope),
      );
    const created = envelopes.find((e) => e.data?.baseData?.name === "OperationCreated");
    expect(created?.data?.baseData?.properties?.operationId).toBe(createdId);
    expect(created?.tags?.["ai.operation.id"]).toMatch(/^[0-9a-f]{32}$/);
    const storeCreate = envelopes.find(
      (e) => e.data?.baseType === "MetricData" && e.data.baseData?.properties?.storeOperation === "create",
    );
    expect(storeCreate?.data?.baseData?.metrics?.map((m) => m.name)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Store(RequestCharge|LatencyMs)$/)]),
    );
    for (const envelope of envelopes) expect(envelope.tags?.["ai.cloud.role"]).toBe(SITE_NAME);
  });
});
