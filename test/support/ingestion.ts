/**
 * An Application Insights ingestion endpoint on loopback, for the telemetry tests: the Azure Monitor exporter in the
 * runner sends its envelopes here (gunzipped and kept in order), as it would to Azure. The exporter always speaks
 * https (it rewrites the endpoint's scheme), so this one has a self-signed certificate that the runner is told to
 * trust through NODE_EXTRA_CA_CERTS.
 */
import type { Server } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { selfSignedCertificate, type Certificate } from "./tlsProxy.js";

export interface Envelope {
  name: string;
  tags?: Record<string, string>;
  data?: {
    baseType?: string;
    baseData?: {
      name?: string;
      id?: string;
      /** Dependencies: what was called, how it answered, how long it took. */
      type?: string;
      target?: string;
      data?: string;
      resultCode?: string;
      success?: boolean;
      duration?: string;
      properties?: Record<string, string>;
      metrics?: Array<{ name: string; value: number; count?: number }>;
      exceptions?: Array<{ typeName?: string; message?: string }>;
    };
  };
}

export interface Ingestion {
  readonly server: Server;
  readonly url: string;
  readonly envelopes: Envelope[];
  /** Every request body, as text. */
  readonly raw: string[];
  readonly certificate: Certificate;
  /** The settings that point the runner's exporter here. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

export async function startIngestion(): Promise<Ingestion> {
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
  return {
    server,
    url,
    envelopes,
    raw,
    certificate,
    env: () => ({
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-4000-8000-000000000001;IngestionEndpoint=${url}`,
      NODE_EXTRA_CA_CERTS: certificate.certFile,
    }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      certificate.remove();
    },
  };
}

export const events = (envelopes: readonly Envelope[], name: string) =>
  envelopes.filter((e) => e.data?.baseType === "EventData" && e.data.baseData?.name === name);

export const metricsNamed = (envelopes: readonly Envelope[], name: string) =>
  envelopes.filter(
    (e) => e.data?.baseType === "MetricData" && (e.data.baseData?.metrics ?? []).some((m) => m.name === name),
  );

export const dependencies = (envelopes: readonly Envelope[]) =>
  envelopes.filter((e) => e.data?.baseType === "RemoteDependencyData");

export const exceptions = (envelopes: readonly Envelope[]) =>
  envelopes.filter((e) => e.data?.baseType === "ExceptionData");
