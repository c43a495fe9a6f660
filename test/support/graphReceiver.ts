/**
 * A receiver of notifications with resource data, written from Microsoft
 * Graph's documentation ("Set up change notifications that include resource
 * data": "How to validate" and "Decrypting resource data") with Node's crypto
 * and jose, and nothing of this project's code: what a subscriber who already
 * receives Graph's rich notifications runs, pointed at this API's key set.
 */
import { createDecipheriv, createHmac, privateDecrypt, timingSafeEqual } from "node:crypto";
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from "jose";

export interface EncryptedContent {
  readonly data: string;
  readonly dataKey: string;
  readonly dataSignature: string;
  readonly encryptionCertificateId: string;
  readonly encryptionCertificateThumbprint: string;
}

/** The payload's data does not match its signature: "assume the payload has been tampered with". */
export class TamperedContent extends Error {
  override readonly name = "TamperedContent";
}

/**
 * Decrypting resource data, steps 2 to 6: the symmetric key from `dataKey` with the private key (OAEP, which is
 * what Node's privateDecrypt does by default), the HMAC-SHA256 of `data` compared with `dataSignature` before
 * anything is decrypted, then AES-256-CBC with PKCS7 padding, the IV being the key's first 16 bytes.
 */
export function decryptResource(content: EncryptedContent, privateKeyPem: string): unknown {
  const key = privateDecrypt(privateKeyPem, Buffer.from(content.dataKey, "base64"));
  const data = Buffer.from(content.data, "base64");
  const expected = createHmac("sha256", key).update(data).digest();
  const given = Buffer.from(content.dataSignature, "base64");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new TamperedContent("dataSignature does not match data: not decrypted");
  }
  const decipher = createDecipheriv("aes-256-cbc", key, key.subarray(0, 16));
  return JSON.parse(Buffer.concat([decipher.update(data), decipher.final()]).toString("utf8"));
}

export interface TokenExpectations {
  /** The API root the subscriptions were made at: the tokens' issuer, with the key set at `/discovery/keys`. */
  readonly apiRoot: string;
  /** The receiving application ids: a token's audience must be one of them. */
  readonly appIds: readonly string[];
  /** The publisher the `appid` claim must name (Graph's is its change-notification app). */
  readonly publisherId: string;
  /** Validate as if at this time (a notification replayed later). */
  readonly currentDate?: Date;
}

/** How to validate: every token's signature against the published keys, expiry, issuer, audience and publisher. */
export async function validateTokens(tokens: readonly string[], expect: TokenExpectations): Promise<JWTPayload[]> {
  // Fetched for each call here; a receiver keeps one (jose fetches it again when a token names a key it lacks).
  const keys = createRemoteJWKSet(new URL(`${expect.apiRoot}/discovery/keys`));
  const claims: JWTPayload[] = [];
  for (const token of tokens) {
    const { payload } = await jwtVerify(token, keys, {
      issuer: expect.apiRoot,
      audience: [...expect.appIds],
      algorithms: ["RS256"],
      currentDate: expect.currentDate,
    });
    if (payload.appid !== expect.publisherId) throw new Error(`appid ${String(payload.appid)} is not the publisher`);
    claims.push(payload);
  }
  return claims;
}
