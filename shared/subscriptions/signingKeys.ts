/**
 * The keys that sign the validation tokens of notifications with resource
 * data, and the key set published for subscribers to check them with.
 *
 * In Azure the key is a Key Vault key, used through the app's managed
 * identity with `@azure/keyvault-keys`' CryptographyClient: the vault signs,
 * and the private key never leaves it. Key Vault's rotation adds a version;
 * a new version is published first and signs only once it is
 * `PUBLISH_AHEAD_MS` old (every instance's key set and a subscriber's cached
 * copy show it by then), and a version it replaced stays published until the
 * tokens it may have signed have expired. On a developer machine the key is a
 * JSON Web Key file (`.dev/`), as the token command's is.
 */
import { createHash, createPrivateKey, sign as signWithKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import type { NotificationSigningConfig } from "../config.js";
import { managedIdentityCredential } from "../identity.js";

/** How long a validation token is valid. */
export const VALIDATION_TOKEN_LIFETIME_MS = 60 * 60_000;
/** How long an instance uses what it read of the vault's key versions before it reads them again. */
export const KEY_REFRESH_MS = 5 * 60_000;
/** How long subscribers may cache the published key set (its Cache-Control). */
export const KEY_SET_MAX_AGE_SECONDS = 300;
/** How long a new version is published before it signs: every instance's refresh and a subscriber's cache. */
export const PUBLISH_AHEAD_MS = KEY_REFRESH_MS + KEY_SET_MAX_AGE_SECONDS * 1000 + 5 * 60_000;
/** How long a replaced version stays published: instances still signing with it, then its tokens' lifetime. */
export const RETIRED_KEY_PUBLISHED_MS = KEY_REFRESH_MS + VALIDATION_TOKEN_LIFETIME_MS + 5 * 60_000;

/** A public RSA signing key as a JSON Web Key set publishes it. */
export interface PublicJwk {
  readonly kty: "RSA";
  readonly use: "sig";
  readonly alg: "RS256";
  readonly kid: string;
  readonly n: string;
  readonly e: string;
}

export interface NotificationSigner {
  /** A JWT (RS256) of these claims, signed with the current key and naming it (`kid`). */
  signJwt(claims: Readonly<Record<string, unknown>>): Promise<string>;
  /** The keys subscribers check tokens with: the current one, a coming one, and those whose tokens may still live. */
  publishedKeys(): Promise<readonly PublicJwk[]>;
}

/** The RFC 7638 thumbprint of an RSA public key: its `kid`, the same wherever the key is published. */
function publicJwk(n: string, e: string): PublicJwk {
  const kid = createHash("sha256")
    .update(JSON.stringify({ e, kty: "RSA", n }))
    .digest("base64url");
  return { kty: "RSA", use: "sig", alg: "RS256", kid, n, e };
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A compact JWS: the header naming the key, the claims, and the signature `sign` makes of the two. */
async function compactJwt(
  kid: string,
  claims: Readonly<Record<string, unknown>>,
  sign: (input: Buffer) => Promise<Uint8Array>,
): Promise<string> {
  const input = `${base64url({ alg: "RS256", typ: "JWT", kid })}.${base64url(claims)}`;
  const signature = await sign(Buffer.from(input, "ascii"));
  return `${input}.${Buffer.from(signature).toString("base64url")}`;
}

/** The development key: a private RSA JSON Web Key in a file, read once. */
export class FileSigner implements NotificationSigner {
  readonly #key: KeyObject;
  readonly #jwk: PublicJwk;

  constructor(file: string) {
    const jwk = JSON.parse(readFileSync(file, "utf8")) as JsonWebKey;
    if (jwk.kty !== "RSA" || !jwk.n || !jwk.e || !jwk.d) throw new Error(`${file} is not a private RSA JSON Web Key.`);
    this.#key = createPrivateKey({ key: jwk, format: "jwk" });
    this.#jwk = publicJwk(jwk.n, jwk.e);
  }

  signJwt(claims: Readonly<Record<string, unknown>>): Promise<string> {
    return compactJwt(this.#jwk.kid, claims, (input) => Promise.resolve(signWithKey("sha256", input, this.#key)));
  }

  publishedKeys(): Promise<readonly PublicJwk[]> {
    return Promise.resolve([this.#jwk]);
  }
}

/** What the vault says of one version of the key. */
export interface KeyVersion {
  readonly version: string;
  readonly enabled: boolean;
  readonly createdOn: Date;
  readonly notBefore?: Date;
  readonly expiresOn?: Date;
}

/**
 * Which version signs, and which are published: of the usable versions (enabled, within their dates), the newest
 * one published for PUBLISH_AHEAD_MS signs (the oldest, before any has been); newer ones are published ahead, and
 * older ones until RETIRED_KEY_PUBLISHED_MS after the version that replaced them began to sign. A disabled version
 * is published no more: disabling one withdraws it at once.
 */
export function keyVersionsInUse(
  versions: readonly KeyVersion[],
  now: number,
): { readonly signing: string; readonly published: readonly string[] } | undefined {
  const usable = versions
    .filter(
      (v) =>
        v.enabled && (!v.notBefore || v.notBefore.getTime() <= now) && (!v.expiresOn || v.expiresOn.getTime() > now),
    )
    .sort((a, b) => a.createdOn.getTime() - b.createdOn.getTime());
  if (usable.length === 0) return undefined;
  const ready = usable.filter((v) => v.createdOn.getTime() + PUBLISH_AHEAD_MS <= now);
  const signing = ready.at(-1) ?? usable[0]!;
  const at = usable.indexOf(signing);
  const published = usable.filter((v, i) => {
    if (i >= at) return true;
    const replacedFrom = usable[i + 1]!.createdOn.getTime() + PUBLISH_AHEAD_MS;
    return replacedFrom + RETIRED_KEY_PUBLISHED_MS > now;
  });
  return { signing: signing.version, published: published.map((v) => v.version) };
}

interface VaultKeys {
  readonly signing: { readonly jwk: PublicJwk; readonly sign: (digest: Uint8Array) => Promise<Uint8Array> };
  readonly published: readonly PublicJwk[];
}

/** The vault's host is loopback only in tests of this code, against a vault that speaks its protocol there. */
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** A Key Vault key: the vault signs (the private key never leaves it), through the app's managed identity. */
export class KeyVaultSigner implements NotificationSigner {
  readonly #vaultUrl: string;
  readonly #name: string;
  readonly #clientId: string | undefined;
  #keys: { readonly at: number; readonly value: Promise<VaultKeys> } | undefined;

  constructor(keyId: string, managedIdentityClientId: string | undefined) {
    const url = new URL(keyId);
    this.#vaultUrl = url.origin;
    this.#name = url.pathname.split("/")[2]!;
    this.#clientId = managedIdentityClientId;
  }

  async #read(): Promise<VaultKeys> {
    // Loaded on demand: only a deployment with resource data signs anything.
    const { CryptographyClient, KeyClient } = await import("@azure/keyvault-keys");
    const credential = await managedIdentityCredential(this.#clientId);
    // The SDK checks that the vault's challenge names the vault's own domain; a loopback vault has none to name.
    const options = { disableChallengeResourceVerification: LOOPBACK_HOSTS.has(new URL(this.#vaultUrl).hostname) };
    const client = new KeyClient(this.#vaultUrl, credential, options);
    const versions: KeyVersion[] = [];
    for await (const v of client.listPropertiesOfKeyVersions(this.#name)) {
      if (v.version && v.createdOn) {
        versions.push({
          version: v.version,
          enabled: v.enabled ?? false,
          createdOn: v.createdOn,
          notBefore: v.notBefore,
          expiresOn: v.expiresOn,
        });
      }
    }
    const inUse = keyVersionsInUse(versions, Date.now());
    if (!inUse) throw new Error(`The key ${this.#name} in ${this.#vaultUrl} has no enabled version to sign with.`);
    const keys = await Promise.all(inUse.published.map((version) => client.getKey(this.#name, { version })));
    const jwks = new Map<string, PublicJwk>();
    for (const key of keys) {
      const { n, e } = key.key ?? {};
      if (!key.properties.version || !n || !e) continue;
      jwks.set(
        key.properties.version,
        publicJwk(Buffer.from(n).toString("base64url"), Buffer.from(e).toString("base64url")),
      );
    }
    const signingKey = keys.find((k) => k.properties.version === inUse.signing)!;
    const jwk = jwks.get(inUse.signing);
    if (!jwk || !signingKey.id) throw new Error(`The key ${this.#name} is not an RSA key.`);
    const crypto = new CryptographyClient(signingKey.id, credential, options);
    return {
      signing: { jwk, sign: async (digest) => (await crypto.sign("RS256", digest)).result },
      published: [...jwks.values()],
    };
  }

  /** The versions in use, read again after KEY_REFRESH_MS (at once after a failed read). */
  #current(): Promise<VaultKeys> {
    const now = Date.now();
    if (!this.#keys || now - this.#keys.at >= KEY_REFRESH_MS) {
      const value = this.#read();
      const entry = { at: now, value };
      this.#keys = entry;
      value.catch(() => {
        if (this.#keys === entry) this.#keys = undefined;
      });
    }
    return this.#keys.value;
  }

  async signJwt(claims: Readonly<Record<string, unknown>>): Promise<string> {
    const { signing } = await this.#current();
    return compactJwt(signing.jwk.kid, claims, (input) => signing.sign(createHash("sha256").update(input).digest()));
  }

  async publishedKeys(): Promise<readonly PublicJwk[]> {
    return (await this.#current()).published;
  }
}

let shared: { readonly key: string; readonly signer: NotificationSigner } | undefined;

/** The process's signer for this configuration; undefined when the deployment has none (resource data refused). */
export function notificationSigner(signing: NotificationSigningConfig | undefined): NotificationSigner | undefined {
  if (!signing) return undefined;
  const key = JSON.stringify(signing);
  if (shared?.key !== key) {
    const signer =
      signing.kind === "file"
        ? new FileSigner(signing.file)
        : new KeyVaultSigner(signing.keyId, signing.managedIdentityClientId);
    shared = { key, signer };
  }
  return shared.signer;
}
