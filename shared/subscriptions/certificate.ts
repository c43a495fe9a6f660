/**
 * The subscriber's encryption certificate of a subscription with resource
 * data: Graph's `encryptionCertificate`, the base64 of an X.509 certificate
 * (DER), whose public key encrypts each notification's symmetric key. Graph's
 * rules: an RSA key of 2,048 to 4,096 bits; the issuer is not checked (a
 * self-signed certificate is fine). Checked at creation and at every renewal,
 * when the certificate may also be replaced.
 */
import { createHash, X509Certificate, type KeyObject } from "node:crypto";

/** Graph's bounds on the certificate's key. */
export const RSA_KEY_BITS = { min: 2048, max: 4096 } as const;

export interface EncryptionCertificate {
  readonly publicKey: KeyObject;
  /** Graph's `encryptionCertificateThumbprint`: the SHA-1 of the DER certificate, in upper-case hexadecimal. */
  readonly thumbprint: string;
  /** When its validity ends (ISO 8601). */
  readonly validTo: string;
}

/** Why a value is not a usable encryption certificate, written for the subscriber. */
export class CertificateRefused extends Error {
  override readonly name = "CertificateRefused";
}

/** Standard base64, as Graph's documentation exports the certificate (no PEM armour, no line breaks). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Reads a certificate as subscribers send it; throws CertificateRefused saying why its key cannot be used. */
export function readEncryptionCertificate(value: string): EncryptionCertificate {
  if (/-----BEGIN/.test(value)) {
    throw new CertificateRefused(
      "The encryptionCertificate must be the base64 of the DER certificate, without the PEM header and footer.",
    );
  }
  if (!BASE64.test(value)) throw new CertificateRefused("The encryptionCertificate is not base64.");
  const der = Buffer.from(value, "base64");
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(der);
  } catch {
    throw new CertificateRefused("The encryptionCertificate is not an X.509 certificate (base64 of its DER form).");
  }
  const publicKey = certificate.publicKey;
  if (publicKey.asymmetricKeyType !== "rsa") {
    throw new CertificateRefused(
      `The encryptionCertificate's key must be RSA (it is ${publicKey.asymmetricKeyType ?? "of another type"}).`,
    );
  }
  const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < RSA_KEY_BITS.min || bits > RSA_KEY_BITS.max) {
    throw new CertificateRefused(
      `The encryptionCertificate's RSA key must have ${RSA_KEY_BITS.min} to ${RSA_KEY_BITS.max} bits (it has ${bits}).`,
    );
  }
  return {
    publicKey,
    thumbprint: createHash("sha1").update(der).digest("hex").toUpperCase(),
    validTo: new Date(certificate.validTo).toISOString(),
  };
}

/**
 * What a create or a renewal checks: a usable key, and a certificate still valid. Delivery encrypts under the
 * certificate it has even after that (the subscriber still holds the private key); a renewal asks for a current one.
 */
export function checkEncryptionCertificate(value: string, now = Date.now()): EncryptionCertificate {
  const certificate = readEncryptionCertificate(value);
  if (Date.parse(certificate.validTo) <= now) {
    throw new CertificateRefused(
      `The encryptionCertificate expired on ${certificate.validTo}; send a current one (a PATCH can replace it).`,
    );
  }
  return certificate;
}
