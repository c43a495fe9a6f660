/**
 * Validation tokens signed in Key Vault, as in Azure: the app holds no key; it reaches a vault (on loopback, over
 * https, behind Key Vault's challenge) through its user-assigned managed identity (the App Service identity
 * protocol, on loopback too) with `@azure/keyvault-keys`, which lists the key's versions, reads their public keys
 * and has the vault sign. A receiver validates the tokens against the published keys, across a rotation.
 */
import { randomUUID } from "node:crypto";
import { calculateJwkThumbprint, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_CLIENT_APP_ID } from "../../local/devIdentity.js";
import { selfSignedEncryptionCertificate } from "../support/certificates.js";
import { decryptResource, validateTokens } from "../support/graphReceiver.js";
import { call } from "../support/http.js";
import { KEY_VAULT_RESOURCE, startLoopbackKeyVault, type LoopbackKeyVault } from "../support/keyVault.js";
import { startManagedIdentityEndpoint, type ManagedIdentityEndpoint } from "../support/managedIdentity.js";
import { waitFor } from "../support/receiver.js";
import { inMinutes, receiverPool } from "../support/subscriptionCalls.js";
import { startStack, type Stack } from "../support/stack.js";

const CLIENT_ID = randomUUID();
const API_ID = randomUUID();
const CERT = selfSignedEncryptionCertificate();
const HOUR = 3_600_000;

let identity: ManagedIdentityEndpoint;
let vault: LoopbackKeyVault;
let stack: Stack;
let app: string;
let first: string;
const receivers = receiverPool();

const kidOf = (version: string) => calculateJwkThumbprint(vault.publicJwk(version));

async function publishedKids(): Promise<string[]> {
  const response = await call(`${stack.baseUrl}/discovery/keys`);
  expect(response.status, response.text).toBe(200);
  for (const key of response.json.keys) expect(Object.keys(key).sort()).toEqual(["alg", "e", "kid", "kty", "n", "use"]);
  return response.json.keys.map((k: { kid: string }) => k.kid).sort();
}

/** Subscribes with resource data, creates an operation, and returns the payload that notified it. */
async function notifiedPayload(): Promise<{ validationTokens: string[]; value: any[] }> {
  const team = randomUUID();
  const r = await receivers.start();
  const created = await call(`${stack.baseUrl}/subscriptions`, {
    method: "POST",
    token: app,
    body: {
      changeType: "created",
      notificationUrl: r.url,
      resource: `teams/${team}/operations`,
      expirationDateTime: inMinutes(45),
      includeResourceData: true,
      encryptionCertificate: CERT.base64,
      encryptionCertificateId: "kv-test",
    },
  });
  expect(created.status, created.text).toBe(201);
  const operation = await call(`${stack.baseUrl}/teams/${team}/operations`, {
    method: "POST",
    token: app,
    body: { operationType: "archiveTeam" },
  });
  expect(operation.status, operation.text).toBe(201);
  const payload = await waitFor(() => r.payloads[0], "a notification", 30_000);
  expect(decryptResource(payload.value[0].encryptedContent, CERT.privateKeyPem)).toMatchObject({
    id: operation.json.id,
  });
  return payload;
}

const expectations = () => ({ apiRoot: stack.baseUrl, appIds: [DEV_CLIENT_APP_ID], publisherId: API_ID });

beforeAll(async () => {
  identity = await startManagedIdentityEndpoint();
  vault = await startLoopbackKeyVault(identity, CLIENT_ID);
  first = vault.addVersion(new Date(Date.now() - 48 * HOUR));
  stack = await startStack({
    env: {
      ...identity.env,
      AZURE_CLIENT_ID: CLIENT_ID,
      NODE_EXTRA_CA_CERTS: vault.certFile,
      NOTIFICATION_SIGNING_KEY_ID: vault.keyId,
      AUTH_AUDIENCES: `api://${API_ID},api://team-operations-local`,
      SUBSCRIPTION_ALLOW_LOOPBACK: "true",
    },
  });
  app = await stack.token({ app: true });
});
afterAll(async () => {
  await stack?.stop();
  await vault?.close();
  await identity?.close();
  await receivers.close();
});

describe("validation tokens signed in Key Vault through the managed identity", () => {
  it("are signed by the vault with the current version and validate against the published keys", async () => {
    expect(await publishedKids()).toEqual([await kidOf(first)]);
    const payload = await notifiedPayload();
    const [token] = payload.validationTokens;
    expect(decodeProtectedHeader(token!)).toMatchObject({ alg: "RS256", kid: await kidOf(first) });
    // appid names this API: the client id of its App ID URI.
    await validateTokens(payload.validationTokens, expectations());
    expect(vault.signed).toContain(first);
    // Every call reached the vault with a token of the app's identity for the vault, after Key Vault's challenge.
    expect(vault.challenged.length).toBeGreaterThan(0);
    expect(vault.refused).toEqual([]);
    expect(identity.issued.map((t) => [t.resource, t.clientId])).toContainEqual([KEY_VAULT_RESOURCE, CLIENT_ID]);
  });

  it("rotate without breaking a subscriber: a new version is published ahead, and the old stays while its tokens live", async () => {
    const before = await notifiedPayload();
    const port = new URL(stack.baseUrl).port;

    // A version made a moment ago is published, but does not sign yet: keys cached a moment ago would not know it.
    const fresh = vault.addVersion(new Date());
    await stack.restart({ PORT: port });
    expect(await publishedKids()).toEqual([await kidOf(first), await kidOf(fresh)].sort());
    let payload = await notifiedPayload();
    expect(decodeProtectedHeader(payload.validationTokens[0]!).kid).toBe(await kidOf(first));

    // Once it has been published long enough, it signs; the version it replaced stays published.
    const settled = vault.addVersion(new Date(Date.now() - 20 * 60_000));
    await stack.restart({ PORT: port });
    expect(await publishedKids()).toEqual([await kidOf(first), await kidOf(fresh), await kidOf(settled)].sort());
    payload = await notifiedPayload();
    expect(decodeProtectedHeader(payload.validationTokens[0]!).kid).toBe(await kidOf(settled));
    await validateTokens(payload.validationTokens, expectations());
    // A token signed before the rotation still validates against the key set served now.
    const keys = createRemoteJWKSet(new URL(`${stack.baseUrl}/discovery/keys`));
    await expect(jwtVerify(before.validationTokens[0]!, keys, { audience: DEV_CLIENT_APP_ID })).resolves.toBeDefined();
  });
});
