/**
 * The local development identity: a signing key kept in the git-ignored
 * `.dev/` folder (created on first use), the JWKS the local runner trusts,
 * and tokens shaped like Entra ID v2.0 access tokens. Nothing deployed trusts
 * this key: the deployment reads keys from Entra ID (AUTH_JWKS_URI).
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";

export const DEV_TENANT_ID = "d0d0d0d0-0000-4000-8000-000000000001";
export const DEV_USER_ID = "d0d0d0d0-0000-4000-8000-0000000000a1";
export const DEV_CLIENT_APP_ID = "d0d0d0d0-0000-4000-8000-0000000000c1";
export const DEV_AUDIENCE = "api://team-operations-local";
export const DEFAULT_SCOPES = "TeamsAsyncOperation.ReadWrite";
export const DEFAULT_APP_ROLES = "TeamsAsyncOperation.ReadWrite.All";

/** The project root: two levels above dist/local. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function devDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.TEAMOPS_DEV_DIR ?? join(PROJECT_ROOT, ".dev");
}

export interface DevKeys {
  readonly privateJwk: JWK;
  readonly jwksFile: string;
}

/** Writes a file whole or not at all, so concurrent first uses cannot see half a key. */
function writeAtomically(file: string, content: string): void {
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(temp, content, { mode: 0o600 });
  renameSync(temp, file);
}

/** A private RSA signing key kept in a file: created on first use, then the same one every time. */
async function loadOrCreateKey(keyFile: string): Promise<JWK> {
  try {
    return JSON.parse(readFileSync(keyFile, "utf8")) as JWK;
  } catch {
    const { privateKey } = await generateKeyPair("RS256", { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    privateJwk.kid = await calculateJwkThumbprint(privateJwk);
    privateJwk.alg = "RS256";
    privateJwk.use = "sig";
    try {
      writeFileSync(keyFile, JSON.stringify(privateJwk), { flag: "wx", mode: 0o600 });
      return privateJwk;
    } catch {
      // Another process created it first: use theirs.
      return JSON.parse(readFileSync(keyFile, "utf8")) as JWK;
    }
  }
}

/** Loads the development signing key, creating it (and the JWKS beside it) on first use. */
export async function ensureDevKeys(dir = devDir()): Promise<DevKeys> {
  mkdirSync(dir, { recursive: true });
  const jwksFile = join(dir, "jwks.json");
  const privateJwk = await loadOrCreateKey(join(dir, "signing-key.json"));
  const { kty, n, e, kid, alg, use } = privateJwk;
  writeAtomically(jwksFile, JSON.stringify({ keys: [{ kty, n, e, kid, alg, use }] }));
  return { privateJwk, jwksFile };
}

/**
 * The development key that signs the validation tokens of notifications with resource data (the runner's
 * NOTIFICATION_SIGNING_KEY_FILE): another key than the token command's, as in Azure, where a Key Vault key signs.
 */
export async function ensureNotificationSigningKey(dir = devDir()): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "notification-signing-key.json");
  await loadOrCreateKey(file);
  return file;
}

export interface TokenOptions {
  tenant?: string;
  user?: string;
  scopes?: string;
  groups?: readonly string[];
  app?: boolean;
  roles?: string;
  audience?: string;
  issuer?: string;
  /** Seconds from now; negative means already expired. */
  expiresIn?: number;
  /** Seconds from now before which the token is not valid. */
  notBefore?: number;
  /**
   * Extra claims, for tests (e.g. `_claim_names` for group overage). Applied
   * last, so they override the claims above; `undefined` removes a claim.
   */
  extraClaims?: Record<string, unknown>;
}

/**
 * A user's `sub` as Entra ID issues it: pairwise, different for each client
 * application and never equal to `oid` (only app-only tokens have sub = oid).
 */
export function pairwiseSubject(objectId: string, clientAppId: string): string {
  return createHash("sha256").update(`${objectId}:${clientAppId}`).digest("base64url").slice(0, 43);
}

/** Signs a token shaped like an Entra ID v2.0 access token with the development key. */
export async function mintDevToken(options: TokenOptions = {}, keys?: DevKeys): Promise<string> {
  const { privateJwk } = keys ?? (await ensureDevKeys());
  const tenant = options.tenant ?? DEV_TENANT_ID;
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    aud: options.audience ?? DEV_AUDIENCE,
    iss: options.issuer ?? `https://login.microsoftonline.com/${tenant}/v2.0`,
    iat: now,
    nbf: now + (options.notBefore ?? 0),
    exp: now + (options.expiresIn ?? 3600),
    tid: tenant,
    ver: "2.0",
    azp: DEV_CLIENT_APP_ID,
  };
  if (options.app) {
    // An app-only token: roles, no scp, sub = oid = the client's service principal.
    claims.roles = (options.roles ?? DEFAULT_APP_ROLES).split(" ").filter(Boolean);
    claims.idtyp = "app";
    claims.oid = DEV_CLIENT_APP_ID;
    claims.sub = DEV_CLIENT_APP_ID;
  } else {
    claims.scp = options.scopes ?? DEFAULT_SCOPES;
    claims.oid = options.user ?? DEV_USER_ID;
    claims.sub = pairwiseSubject(String(claims.oid), DEV_CLIENT_APP_ID);
    if (options.groups) claims.groups = [...options.groups];
    if (options.roles) claims.roles = options.roles.split(" ").filter(Boolean);
  }
  Object.assign(claims, options.extraClaims);
  const key = await importJWK(privateJwk, "RS256");
  return new SignJWT(JSON.parse(JSON.stringify(claims)) as Record<string, unknown>)
    .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: privateJwk.kid })
    .sign(key);
}
