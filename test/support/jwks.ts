/**
 * A token issuer for attack tests: RSA signing keys we control, published as
 * a JSON Web Key Set by a small HTTP server on loopback, so the app fetches
 * them through jose's real remote key set (AUTH_JWKS_URI), and tokens shaped
 * like Microsoft Entra ID's v1.0 and v2.0 access tokens. Keys can be added,
 * withdrawn and the endpoint made to fail, to test rotation and outages.
 */
import { createHash, createHmac, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  calculateJwkThumbprint,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWK,
} from "jose";

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  /** The public key as Entra ID publishes it: kty, use, kid, n, e (and no `alg`). */
  readonly publicJwk: JWK;
  /** The public key as PEM (SPKI), the secret of the classic HS256 confusion attack. */
  readonly publicPem: string;
}

export async function createSigningKey(kid?: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = await exportJWK(publicKey);
  const id = kid ?? (await calculateJwkThumbprint(jwk));
  return {
    kid: id,
    privateKey,
    publicJwk: { kty: jwk.kty, use: "sig", kid: id, n: jwk.n, e: jwk.e },
    publicPem: await exportSPKI(publicKey),
  };
}

export interface JwksServer {
  /** The URL to give the app as AUTH_JWKS_URI. */
  readonly url: string;
  /** Replaces the published key set. */
  publish(keys: readonly SigningKey[]): void;
  /** Answers every request with this status instead of the key set; undefined restores it. */
  failWith(status: number | undefined): void;
  /** How many times the key set has been requested. */
  readonly fetches: number;
  close(): Promise<void>;
}

export async function startJwksServer(keys: readonly SigningKey[]): Promise<JwksServer> {
  let published = [...keys];
  let failure: number | undefined;
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    if (req.url !== "/keys") {
      res.writeHead(404).end();
      return;
    }
    fetches++;
    if (failure !== undefined) {
      res.writeHead(failure, { "content-type": "text/plain" }).end("unavailable");
      return;
    }
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ keys: published.map((k) => k.publicJwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/keys`,
    publish: (next) => {
      published = [...next];
    },
    failWith: (status) => {
      failure = status;
    },
    get fetches() {
      return fetches;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The client application that asks for tokens, and the tenants of the tests. */
export const CLIENT_APP_ID = "c1c1c1c1-0000-4000-8000-0000000000c1";
export const USER_OID = "a1a1a1a1-0000-4000-8000-0000000000a1";
export const APP_SP_OID = "5b5b5b5b-0000-4000-8000-0000000000b5";

export interface ClaimOptions {
  readonly tenant: string;
  readonly audience: string;
  /** Issuer format: Entra ID's v2.0 (default) or v1.0. */
  readonly version?: "1.0" | "2.0";
  /** Overrides and additions; `undefined` removes a claim. */
  readonly claims?: Record<string, unknown>;
}

function base(options: ClaimOptions): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const v1 = options.version === "1.0";
  return {
    aud: options.audience,
    iss: v1 ? `https://sts.windows.net/${options.tenant}/` : `https://login.microsoftonline.com/${options.tenant}/v2.0`,
    iat: now,
    nbf: now,
    exp: now + 3600,
    tid: options.tenant,
    uti: randomUUID().replace(/-/g, "").slice(0, 22),
    ver: v1 ? "1.0" : "2.0",
    ...(v1 ? { appid: CLIENT_APP_ID } : { azp: CLIENT_APP_ID }),
  };
}

/** A delegated (user) token's claims: `scp`, a pairwise `sub` that differs from `oid`, `groups`. */
export function userClaims(
  options: ClaimOptions & { scp?: string; groups?: readonly string[] },
): Record<string, unknown> {
  return finish({
    ...base(options),
    name: "Adele Vance",
    preferred_username: "adele@contoso.example",
    oid: USER_OID,
    sub: createHash("sha256").update(`${USER_OID}:${CLIENT_APP_ID}`).digest("base64url").slice(0, 43),
    scp: options.scp ?? "TeamsAsyncOperation.ReadWrite",
    ...(options.groups ? { groups: [...options.groups] } : {}),
    ...options.claims,
  });
}

/** An application (app-only) token's claims: `roles`, no `scp`, `sub` = `oid` (no `idtyp` unless asked). */
export function appClaims(options: ClaimOptions & { roles?: readonly string[] }): Record<string, unknown> {
  return finish({
    ...base(options),
    oid: APP_SP_OID,
    sub: APP_SP_OID,
    roles: [...(options.roles ?? ["TeamsAsyncOperation.ReadWrite.All"])],
    ...options.claims,
  });
}

function finish(claims: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(claims)) as Record<string, unknown>;
}

/** Signs claims with RS256 under the key's kid (or another RSA algorithm or kid, for attacks). */
export async function sign(
  key: SigningKey,
  claims: Record<string, unknown>,
  header: { kid?: string; alg?: string } = {},
): Promise<string> {
  const alg = header.alg ?? "RS256";
  // WebCrypto binds a key to its hash: the same RSA key is imported again for another algorithm.
  const privateKey = alg === "RS256" ? key.privateKey : await importJWK(await exportJWK(key.privateKey), alg);
  return new SignJWT(claims).setProtectedHeader({ typ: "JWT", alg, kid: header.kid ?? key.kid }).sign(privateKey);
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** An unsigned token: `alg: none`, empty signature. */
export function unsigned(claims: Record<string, unknown>, kid: string): string {
  return `${b64url({ typ: "JWT", alg: "none", kid })}.${b64url(claims)}.`;
}

/** HS256 with the RSA public key (PEM) as the HMAC secret: the algorithm-confusion attack. */
export function hmacWithPublicKey(key: SigningKey, claims: Record<string, unknown>): string {
  const input = `${b64url({ typ: "JWT", alg: "HS256", kid: key.kid })}.${b64url(claims)}`;
  return `${input}.${createHmac("sha256", key.publicPem).update(input).digest("base64url")}`;
}

/** Replaces a signed token's payload, keeping its header and signature. */
export function withPayload(token: string, edit: (claims: Record<string, unknown>) => void): string {
  const [header, payload, signature] = token.split(".");
  const claims = JSON.parse(Buffer.from(payload!, "base64url").toString()) as Record<string, unknown>;
  edit(claims);
  return `${header}.${b64url(claims)}.${signature}`;
}
