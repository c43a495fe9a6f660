/**
 * The local development certificate for `LOCAL_HTTPS=on`: self-signed, for
 * `localhost`, `127.0.0.1` and `::1`, kept in the git-ignored `.dev/` folder
 * beside the signing key (created on first use, made again once it is within
 * a month of its end). The Graph SDKs send tokens only over https, so an SDK
 * talks to the local runner through it; the client trusts this one file
 * (`NODE_EXTRA_CA_CERTS` for Node.js, the system's store or `SSL_CERT_FILE`
 * for .NET on Linux): docs/sdks.md says how.
 */
import { X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generate } from "selfsigned";
import { devDir } from "./devIdentity.js";

export interface DevCertificate {
  readonly key: string;
  readonly cert: string;
  /** The certificate's file, the one to trust. */
  readonly certFile: string;
}

const RENEW_BEFORE_MS = 30 * 24 * 3600_000;
const VALID_DAYS = 365;

function usable(cert: string, now: number): boolean {
  try {
    return Date.parse(new X509Certificate(cert).validTo) - now > RENEW_BEFORE_MS;
  } catch {
    return false;
  }
}

/** The development certificate and its key, made (or made again) when there is none that is still good. */
export async function ensureDevCertificate(dir = devDir(), now = Date.now()): Promise<DevCertificate> {
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, "localhost.crt");
  const keyFile = join(dir, "localhost.key");
  try {
    const cert = readFileSync(certFile, "utf8");
    const key = readFileSync(keyFile, "utf8");
    if (usable(cert, now)) return { key, cert, certFile };
  } catch {
    // none yet
  }
  const made = await generate([{ name: "commonName", value: "localhost" }], {
    keySize: 2048,
    algorithm: "sha256",
    notBeforeDate: new Date(now - 3600_000),
    notAfterDate: new Date(now + VALID_DAYS * 24 * 3600_000),
    extensions: [
      // Its own issuer: a CA for itself only, which is what trust stores that take it as a root want.
      { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  // The key first, then the certificate: a certificate on disk always has its key.
  for (const [file, content] of [
    [keyFile, made.private],
    [certFile, made.cert],
  ] as const) {
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, content, { mode: 0o600 });
    renameSync(temp, file);
  }
  return { key: made.private, cert: made.cert, certFile };
}
