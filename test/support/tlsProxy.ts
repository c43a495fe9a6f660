/**
 * TLS on loopback for tests: self-signed certificates made with openssl, and
 * a TLS-terminating reverse proxy as a deployment puts in front of the app
 * (Front Door, API Management): https outside, the local runner's plain http
 * inside.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Certificate {
  readonly key: Buffer;
  readonly cert: Buffer;
  /** The certificate's file, for NODE_EXTRA_CA_CERTS in a child process that must trust it. */
  readonly certFile: string;
  remove(): void;
}

/** A self-signed certificate for 127.0.0.1, valid for a day. */
export function selfSignedCertificate(): Certificate {
  const dir = mkdtempSync(join(tmpdir(), "teamops-tls-"));
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  const subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"];
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", ...subject, "-keyout", keyFile, "-out", certFile],
    { stdio: "ignore" },
  );
  return {
    key: readFileSync(keyFile),
    cert: readFileSync(certFile),
    certFile,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TlsProxy {
  readonly origin: string;
  /** Where requests go: the runner's http origin, set once it has started. */
  target: string | undefined;
  close(): Promise<void>;
}

export async function startTlsProxy(): Promise<TlsProxy> {
  const certificate = selfSignedCertificate();
  const proxy: TlsProxy = { origin: "", target: undefined, close: async () => undefined };
  const server = createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
    const target = new URL(req.url ?? "/", proxy.target);
    const upstream = httpRequest(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(proxy, {
    origin: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        certificate.remove();
      }),
  });
}
