/**
 * Graph's encryption of resource data (`changeNotificationEncryptedContent`),
 * as its documentation tells receivers to undo it: a fresh 32-byte key per
 * notification; the resource's JSON encrypted with AES-256-CBC and PKCS7
 * padding under that key, the IV being the key's first 16 bytes (`data`);
 * the key encrypted with RSA-OAEP (SHA-1, MGF1 with SHA-1: Graph's
 * `RSA/ECB/OAEPWithSHA1AndMGF1Padding`) under the certificate's public key
 * (`dataKey`); an HMAC-SHA256 of the encrypted bytes keyed with the same key
 * (`dataSignature`); all base64.
 */
import { constants, createCipheriv, createHmac, publicEncrypt, randomBytes } from "node:crypto";
import { readEncryptionCertificate, type EncryptionCertificate } from "./certificate.js";

export interface EncryptedContent {
  readonly data: string;
  readonly dataSignature: string;
  readonly dataKey: string;
  readonly encryptionCertificateId: string;
  readonly encryptionCertificateThumbprint: string;
}

/** Encrypts one resource's JSON for the holder of the certificate's private key. */
export function encryptContent(
  json: string,
  certificate: EncryptionCertificate,
  encryptionCertificateId: string,
): EncryptedContent {
  const key = randomBytes(32);
  const cipher = createCipheriv("aes-256-cbc", key, key.subarray(0, 16));
  const data = Buffer.concat([cipher.update(json, "utf8"), cipher.final()]);
  const dataKey = publicEncrypt(
    { key: certificate.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" },
    key,
  );
  return {
    data: data.toString("base64"),
    dataSignature: createHmac("sha256", key).update(data).digest("base64"),
    dataKey: dataKey.toString("base64"),
    encryptionCertificateId,
    encryptionCertificateThumbprint: certificate.thumbprint,
  };
}

/** Certificates already read, by their base64: a subscription's is read once per process, not once per change. */
const read = new Map<string, EncryptionCertificate>();
const READ_CERTIFICATES_KEPT = 256;

/** A stored subscription's certificate, read (it was checked when it was given). */
export function certificateOf(encryptionCertificate: string): EncryptionCertificate {
  let certificate = read.get(encryptionCertificate);
  if (!certificate) {
    certificate = readEncryptionCertificate(encryptionCertificate);
    if (read.size >= READ_CERTIFICATES_KEPT) read.delete(read.keys().next().value!);
    read.set(encryptionCertificate, certificate);
  }
  return certificate;
}
