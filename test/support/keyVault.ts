/**
 * A Key Vault on loopback, speaking the part of its REST protocol that
 * `@azure/keyvault-keys` uses to list a key's versions, read a version's
 * public key and sign a digest, over https (a self-signed certificate the app
 * is told to trust), behind Key Vault's challenge: a request without a token
 * gets 401 and `WWW-Authenticate` naming the resource to ask a token for, and
 * only tokens the loopback managed identity endpoint issued for that resource
 * and the app's client id are served. Private keys stay in here: nothing it
 * answers carries one.
 */
import { constants, generateKeyPairSync, privateEncrypt, randomBytes, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { ManagedIdentityEndpoint } from "./managedIdentity.js";
import { selfSignedCertificate } from "./tlsProxy.js";

export const KEY_VAULT_RESOURCE = "https://vault.azure.net";

/** The DER prefix of a SHA-256 DigestInfo: RSASSA-PKCS1-v1_5 signs it and the digest together. */
const SHA256_DIGEST_INFO = Buffer.from("3031300d060960864801650304020105000420", "hex");

interface Version {
  readonly version: string;
  readonly privateKey: KeyObject;
  readonly jwk: { n: string; e: string };
  createdOn: Date;
  enabled: boolean;
}

export interface LoopbackKeyVault {
  /** The key's versionless id: NOTIFICATION_SIGNING_KEY_ID. */
  readonly keyId: string;
  /** The certificate file the app must trust (NODE_EXTRA_CA_CERTS). */
  readonly certFile: string;
  /** Adds a version of the key (Key Vault's rotation), created at the given time; its version id. */
  addVersion(createdOn?: Date): string;
  /** A version's public key, as a JSON Web Key. */
  publicJwk(version: string): { kty: "RSA"; n: string; e: string };
  /** Each sign request served, by version. */
  readonly signed: string[];
  /** Requests answered 401 with a challenge, and requests refused for a token not issued for the vault. */
  readonly challenged: string[];
  readonly refused: string[];
  close(): Promise<void>;
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

export async function startLoopbackKeyVault(
  identity: ManagedIdentityEndpoint,
  clientId: string,
  keyName = "notification-signing",
): Promise<LoopbackKeyVault> {
  const certificate = selfSignedCertificate();
  const versions: Version[] = [];
  const signed: string[] = [];
  const challenged: string[] = [];
  const refused: string[] = [];
  let origin = "";
  const kid = (v: Version) => `${origin}/keys/${keyName}/${v.version}`;
  const attributes = (v: Version) => ({
    enabled: v.enabled,
    created: seconds(v.createdOn),
    updated: seconds(v.createdOn),
    recoveryLevel: "Recoverable",
  });
  const bundle = (v: Version) => ({
    key: { kid: kid(v), kty: "RSA", key_ops: ["sign", "verify"], n: v.jwk.n, e: v.jwk.e },
    attributes: attributes(v),
  });

  const server: Server = createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const answer = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(body === undefined ? undefined : JSON.stringify(body));
      };
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
      if (!token) {
        challenged.push(`${req.method} ${req.url}`);
        return answer(401, undefined, {
          "www-authenticate": `Bearer authorization="https://login.microsoftonline.com/${randomBytes(4).toString("hex")}", resource="${KEY_VAULT_RESOURCE}"`,
        });
      }
      const issued = identity.issuedFor(token);
      if (!issued || issued.resource !== KEY_VAULT_RESOURCE || issued.clientId !== clientId) {
        refused.push(`${req.method} ${req.url}`);
        return answer(403, { error: { code: "Forbidden", message: "The token is not the app's, for the vault." } });
      }
      const url = new URL(req.url ?? "/", origin);
      const [, keys, name, version, action] = url.pathname.split("/");
      if (keys !== "keys" || name !== keyName) return answer(404, { error: { code: "KeyNotFound", message: "" } });
      if (req.method === "GET" && version === "versions") {
        return answer(200, {
          value: versions.map((v) => ({ kid: kid(v), attributes: attributes(v) })),
          nextLink: null,
        });
      }
      const found = version ? versions.find((v) => v.version === version) : versions.at(-1);
      if (!found) return answer(404, { error: { code: "KeyNotFound", message: "No such version." } });
      if (req.method === "GET" && !action) return answer(200, bundle(found));
      if (req.method === "POST" && action === "sign") {
        const { alg, value } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { alg: string; value: string };
        const digest = Buffer.from(value, "base64url");
        if (alg !== "RS256" || digest.length !== 32) {
          return answer(400, { error: { code: "BadParameter", message: "RS256 over a SHA-256 digest only." } });
        }
        if (!found.enabled) return answer(403, { error: { code: "Forbidden", message: "Operation is not allowed." } });
        signed.push(found.version);
        const signature = privateEncrypt(
          { key: found.privateKey, padding: constants.RSA_PKCS1_PADDING },
          Buffer.concat([SHA256_DIGEST_INFO, digest]),
        );
        return answer(200, { kid: kid(found), value: signature.toString("base64url") });
      }
      return answer(405, { error: { code: "MethodNotAllowed", message: "" } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    keyId: `${origin}/keys/${keyName}`,
    certFile: certificate.certFile,
    addVersion(createdOn = new Date()) {
      const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const jwk = publicKey.export({ format: "jwk" }) as { n: string; e: string };
      const version = randomBytes(16).toString("hex");
      versions.push({ version, privateKey, jwk: { n: jwk.n, e: jwk.e }, createdOn, enabled: true });
      versions.sort((a, b) => a.createdOn.getTime() - b.createdOn.getTime());
      return version;
    },
    publicJwk(version) {
      const found = versions.find((v) => v.version === version)!;
      return { kty: "RSA", n: found.jwk.n, e: found.jwk.e };
    },
    signed,
    challenged,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        certificate.remove();
      }),
  };
}
