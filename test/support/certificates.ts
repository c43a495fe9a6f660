/**
 * A subscriber's encryption certificates, made as Graph's documentation tells
 * subscribers to make them (a self-signed certificate, exported as the base64
 * of its DER form), with openssl, so that nothing of the service's code makes
 * what the tests check it against: the thumbprint is openssl's SHA-1
 * fingerprint, the private key openssl's PEM.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificate {
  /** What a subscription's encryptionCertificate carries: the base64 of the DER certificate. */
  readonly base64: string;
  /** The private key, PEM, as the receiver keeps it. */
  readonly privateKeyPem: string;
  /** openssl's SHA-1 fingerprint, hexadecimal without separators. */
  readonly thumbprint: string;
}

/** A self-signed certificate for a new key: `rsa:2048`, `rsa:1024`, `ec` (P-256). */
export function selfSignedEncryptionCertificate(key: "rsa:2048" | "rsa:1024" | "rsa:4096" | "ec" = "rsa:2048") {
  const dir = mkdtempSync(join(tmpdir(), "teamops-cert-"));
  try {
    const keyFile = join(dir, "key.pem");
    const certFile = join(dir, "cert.der");
    const newKey = key === "ec" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] : ["-newkey", key];
    execFileSync(
      "openssl",
      ["req", "-x509", ...newKey, "-nodes", "-days", "30", "-subj", "/CN=notification receiver"].concat([
        "-keyout",
        keyFile,
        "-out",
        certFile,
        "-outform",
        "DER",
      ]),
      { stdio: "ignore" },
    );
    const fingerprint = execFileSync("openssl", [
      "x509",
      "-inform",
      "DER",
      "-in",
      certFile,
      "-noout",
      "-fingerprint",
      "-sha1",
    ])
      .toString()
      .trim();
    return {
      base64: readFileSync(certFile).toString("base64"),
      privateKeyPem: readFileSync(keyFile, "utf8"),
      thumbprint: fingerprint.split("=")[1]!.replace(/:/g, ""),
    } satisfies TestCertificate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A certificate whose RSA key has 4,160 bits, over Graph's bound (made once: such a key takes seconds to make). */
export const RSA_4160_CERTIFICATE = readFileSync(
  join(import.meta.dirname, "..", "fixtures", "certificates", "rsa-4160.cer.b64"),
  "utf8",
).trim();
