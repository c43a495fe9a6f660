// An Application Insights ingestion endpoint on loopback for the bench: https (the
// exporter speaks nothing else) with a self-signed certificate made by openssl, which
// a runner trusts through NODE_EXTRA_CA_CERTS. It accepts every batch and keeps only
// counts, so that what it costs the bench process stays small.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function startIngestion() {
  const dir = mkdtempSync(join(tmpdir(), "teamops-bench-tls-"));
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"].concat([
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ]),
    { stdio: "ignore" },
  );
  let requests = 0;
  let bytes = 0;
  const server = createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => {
    if (process.env.INGESTION_LOG)
      console.error("ingestion", req.url, req.headers["content-encoding"], req.headers["content-length"]);
    req.on("data", (chunk) => (bytes += chunk.length));
    req.on("end", () => {
      requests++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"itemsReceived":0,"itemsAccepted":0,"errors":[]}');
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `https://127.0.0.1:${server.address().port}/`,
    certFile,
    requests: () => requests,
    bytes: () => bytes,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
