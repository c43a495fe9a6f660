/**
 * Notifications with resource data over real HTTP: the local runner, the
 * embedded store and its change feed, Azurite for the retry queue, and
 * loopback receivers that decrypt and validate every notification as Graph's
 * documentation tells a receiver to (test/support/graphReceiver.ts: Node's
 * crypto and jose, none of the service's code), with certificates made by
 * openssl.
 */
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_AUDIENCE, DEV_CLIENT_APP_ID, DEV_TENANT_ID } from "../../local/devIdentity.js";
import { selfSignedEncryptionCertificate, type TestCertificate } from "../support/certificates.js";
import { decryptResource, TamperedContent, validateTokens, type TokenExpectations } from "../support/graphReceiver.js";
import { call, detailTargets, expectGraphError } from "../support/http.js";
import { waitFor, type Receiver } from "../support/receiver.js";
import { inMinutes, receiverPool, subscriptionCalls } from "../support/subscriptionCalls.js";
import { startQueuedStack, type QueuedStack } from "../support/stack.js";

const CERT = selfSignedEncryptionCertificate();
const NEXT_CERT = selfSignedEncryptionCertificate();
const INCLUDE_UNKNOWN = { prefer: "include-unknown-enum-members" };

let stack: QueuedStack;
let app: string;
const receivers = receiverPool();
const { subscribe, subscribed } = subscriptionCalls(
  () => stack.baseUrl,
  () => app,
);
const url = (path: string) => `${stack.baseUrl}${path}`;

/** What a receiver expects of the tokens: this API's root, the dev client app, the local publisher id. */
const expectations = (): TokenExpectations => ({
  apiRoot: stack.baseUrl,
  appIds: [DEV_CLIENT_APP_ID],
  publisherId: DEV_AUDIENCE,
});

function richBody(r: Receiver, resource: string, changeType: string, certificate: TestCertificate = CERT) {
  return {
    changeType,
    notificationUrl: r.url,
    resource,
    expirationDateTime: inMinutes(50),
    clientState: "rich",
    includeResourceData: true,
    encryptionCertificate: certificate.base64,
    encryptionCertificateId: "receiver-cert-1",
  };
}

async function createOperation(team: string, body: Record<string, unknown> = {}, headers?: Record<string, string>) {
  const id = randomUUID();
  const response = await call(url(`/teams/${team}/operations`), {
    method: "POST",
    token: app,
    body: { id, operationType: "cloneTeam", ...body },
    headers,
  });
  expect(response.status, response.text).toBe(201);
  return id;
}

async function patchOperation(team: string, id: string, body: Record<string, unknown>) {
  const response = await call(url(`/teams/${team}/operations/${id}`), { method: "PATCH", token: app, body });
  expect(response.status, response.text).toBe(200);
}

async function getOperation(path: string, token = app, headers?: Record<string, string>) {
  const response = await call(url(path), { token, headers });
  expect(response.status, response.text).toBe(200);
  return response.json as Record<string, unknown>;
}

/** The payload and item a receiver got about an operation (with a change type), once it has. */
function notified(r: Receiver, operationId: string, changeType: string) {
  return waitFor(() => {
    for (const payload of r.payloads) {
      const item = payload.value.find((n: any) => n.resourceData.id === operationId && n.changeType === changeType);
      if (item) return { payload, item };
    }
    return undefined;
  }, `${changeType} about ${operationId}`);
}

beforeAll(async () => {
  stack = await startQueuedStack({
    SUBSCRIPTION_VALIDATION_TIMEOUT_SECONDS: "2",
    SUBSCRIPTION_DELIVERY_TIMEOUT_SECONDS: "4",
    SUBSCRIPTION_RETRY_SCHEDULE_SECONDS: "60",
  });
  app = await stack.token({ app: true });
});
afterAll(async () => {
  await stack?.stop();
  await receivers.close();
});

describe("a receiver written from Graph's documentation", () => {
  it("decrypts every notification and finds what a GET returns; the tokens validate against the published keys", async () => {
    const team = randomUUID();
    const r = await receivers.start();
    const subscription = await subscribed(richBody(r, `teams/${team}/operations`, "created,updated,deleted"));
    expect(subscription).toMatchObject({
      includeResourceData: true,
      encryptionCertificate: CERT.base64,
      encryptionCertificateId: "receiver-cert-1",
    });

    const id = await createOperation(team);
    const created = await notified(r, id, "created");
    const read = await getOperation(`/teams/${team}/operations/${id}`);
    expect(decryptResource(created.item.encryptedContent, CERT.privateKeyPem)).toEqual(read);
    expect(created.item.encryptedContent).toMatchObject({
      encryptionCertificateId: "receiver-cert-1",
      encryptionCertificateThumbprint: CERT.thumbprint,
    });
    // Beside encrypted content, resourceData keeps what Graph keeps there: the type, @odata.id and id.
    expect(created.item.resourceData).toEqual({
      "@odata.type": "#microsoft.graph.teamsAsyncOperation",
      "@odata.id": `teams('${team}')/operations('${id}')`,
      id,
    });
    const claims = await validateTokens(created.payload.validationTokens, expectations());
    expect(claims).toEqual([expect.objectContaining({ aud: DEV_CLIENT_APP_ID, tid: DEV_TENANT_ID })]);

    await patchOperation(team, id, { status: "succeeded", attemptsCount: 2 });
    const updated = await notified(r, id, "updated");
    const after = await getOperation(`/teams/${team}/operations/${id}`);
    expect(after).toMatchObject({ status: "succeeded", attemptsCount: 2 });
    expect(decryptResource(updated.item.encryptedContent, CERT.privateKeyPem)).toEqual(after);
    await validateTokens(updated.payload.validationTokens, expectations());

    const deletion = await call(url(`/teams/${team}/operations/${id}`), { method: "DELETE", token: app });
    expect(deletion.status).toBe(204);
    const deleted = await notified(r, id, "deleted");
    // Nothing is left to carry; the payload is still signed.
    expect(deleted.item.encryptedContent).toBeUndefined();
    expect(await validateTokens(deleted.payload.validationTokens, expectations())).toHaveLength(1);
  });

  it("honours the subscription's resource path and its evolvable-enum choice; one token per application and tenant", async () => {
    const team = randomUUID();
    const member = await stack.token({ groups: [team] });
    const r = await receivers.start();
    const mine = await subscribe(richBody(r, `me/joinedTeams/${team}/operations`, "created"), member);
    expect(mine.status, mine.text).toBe(201);
    // Prefer on the create: its resource data names evolvable members as they are, as a GET with it would.
    const withMembers = await call(url("/subscriptions"), {
      method: "POST",
      token: app,
      body: richBody(r, `groups/${team}/team/operations`, "created"),
      headers: INCLUDE_UNKNOWN,
    });
    expect(withMembers.status, withMembers.text).toBe(201);
    expect(withMembers.headers.get("preference-applied")).toBe("include-unknown-enum-members");
    const basic = await subscribed({
      changeType: "created",
      notificationUrl: r.url,
      resource: `teams/${team}/operations`,
      expirationDateTime: inMinutes(50),
    });

    const id = await createOperation(team, { operationType: "teamifyGroup" }, INCLUDE_UNKNOWN);
    await waitFor(() => r.received.filter((n) => n.resourceData.id === id).length === 3 || undefined, "3 items");
    const item = (subscriptionId: string) => r.received.find((n) => n.subscriptionId === subscriptionId)!;

    const viaMe = decryptResource(item(mine.json.id).encryptedContent, CERT.privateKeyPem);
    expect(viaMe).toEqual(await getOperation(`/me/joinedTeams/${team}/operations/${id}`, member));
    expect(viaMe).toMatchObject({ operationType: "unknownFutureValue" });
    const viaGroup = decryptResource(item(withMembers.json.id).encryptedContent, CERT.privateKeyPem);
    expect(viaGroup).toEqual(await getOperation(`/groups/${team}/team/operations/${id}`, app, INCLUDE_UNKNOWN));
    expect(viaGroup).toMatchObject({ operationType: "teamifyGroup" });
    expect(item(basic.id).encryptedContent).toBeUndefined();

    // Every payload: one token per distinct application and tenant among its items with resource data.
    for (const payload of r.payloads) {
      const rich = payload.value.filter((n: any) => n.subscriptionId !== basic.id);
      const pairs = new Set(rich.map((n: any) => n.tenantId));
      expect(payload.validationTokens ?? [], JSON.stringify(payload)).toHaveLength(pairs.size);
      await validateTokens(payload.validationTokens ?? [], expectations());
    }
  });

  it("detects tampered data, a wrong certificate, an expired token and a token the service did not sign", async () => {
    const team = randomUUID();
    const r = await receivers.start();
    await subscribed(richBody(r, `teams/${team}/operations`, "created"));
    const id = await createOperation(team);
    const { payload, item } = await notified(r, id, "created");
    const content = item.encryptedContent;
    expect(decryptResource(content, CERT.privateKeyPem)).toMatchObject({ id });

    const data = Buffer.from(content.data, "base64");
    data[data.length - 1]! ^= 1;
    expect(() => decryptResource({ ...content, data: data.toString("base64") }, CERT.privateKeyPem)).toThrow(
      TamperedContent,
    );
    const signature = Buffer.from(content.dataSignature, "base64");
    signature[0]! ^= 1;
    expect(() =>
      decryptResource({ ...content, dataSignature: signature.toString("base64") }, CERT.privateKeyPem),
    ).toThrow(TamperedContent);
    expect(() => decryptResource(content, NEXT_CERT.privateKeyPem)).toThrow();

    const hourLater = new Date(Date.now() + 61 * 60_000);
    await expect(
      validateTokens(payload.validationTokens, { ...expectations(), currentDate: hourLater }),
    ).rejects.toMatchObject({ code: "ERR_JWT_EXPIRED" });
    await expect(
      validateTokens(payload.validationTokens, { ...expectations(), appIds: [randomUUID()] }),
    ).rejects.toMatchObject({ code: "ERR_JWT_CLAIM_VALIDATION_FAILED", claim: "aud" });
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const forged = await new SignJWT({ appid: DEV_AUDIENCE, tid: DEV_TENANT_ID })
      .setProtectedHeader({ alg: "RS256", kid: "forged" })
      .setIssuer(stack.baseUrl)
      .setAudience(DEV_CLIENT_APP_ID)
      .setExpirationTime("1h")
      .sign(privateKey);
    await expect(validateTokens([forged], expectations())).rejects.toMatchObject({ code: "ERR_JWKS_NO_MATCHING_KEY" });
  });
});

describe("the certificate", () => {
  it("is rotated by a PATCH alongside the expiration: later notifications are for the new one only", async () => {
    const team = randomUUID();
    const r = await receivers.start();
    const subscription = await subscribed(richBody(r, `teams/${team}/operations`, "created"));
    const rotated = await call(url(`/subscriptions/${subscription.id}`), {
      method: "PATCH",
      token: app,
      body: {
        expirationDateTime: inMinutes(55),
        encryptionCertificate: NEXT_CERT.base64,
        encryptionCertificateId: "receiver-cert-2",
      },
    });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.json).toMatchObject({ encryptionCertificateId: "receiver-cert-2", includeResourceData: true });

    const id = await createOperation(team);
    const { item } = await notified(r, id, "created");
    expect(item.encryptedContent).toMatchObject({
      encryptionCertificateId: "receiver-cert-2",
      encryptionCertificateThumbprint: NEXT_CERT.thumbprint,
    });
    expect(decryptResource(item.encryptedContent, NEXT_CERT.privateKeyPem)).toMatchObject({ id });
    expect(() => decryptResource(item.encryptedContent, CERT.privateKeyPem)).toThrow();
  });

  it("is refused, Graph-shaped and named, when it cannot be used, at creation and at renewal", async () => {
    const team = randomUUID();
    const r = await receivers.start();
    const ec = selfSignedEncryptionCertificate("ec");
    let error = expectGraphError(
      await subscribe({ ...richBody(r, `teams/${team}/operations`, "created"), encryptionCertificate: ec.base64 }),
      400,
      "invalidRequest",
    );
    expect(detailTargets(error)).toEqual(["encryptionCertificate"]);
    expect(error.details[0].message).toContain("must be RSA");

    error = expectGraphError(
      await subscribe({ ...richBody(r, `teams/${team}/operations`, "created"), expirationDateTime: inMinutes(120) }),
      400,
      "invalidRequest",
    );
    expect(detailTargets(error)).toEqual(["lifecycleNotificationUrl"]);

    const subscription = await subscribed(richBody(r, `teams/${team}/operations`, "created"));
    const renewal = await call(url(`/subscriptions/${subscription.id}`), {
      method: "PATCH",
      token: app,
      body: { expirationDateTime: inMinutes(30), encryptionCertificate: ec.base64 },
    });
    expect(detailTargets(expectGraphError(renewal, 400, "invalidRequest"))).toEqual(["encryptionCertificate"]);
    const unchanged = await call(url(`/subscriptions/${subscription.id}`), { token: app });
    expect(unchanged.json.encryptionCertificate).toBe(CERT.base64);
  });
});

describe("the published keys", () => {
  it("are an anonymous JSON Web Key Set of public RSA keys", async () => {
    const response = await call(url("/discovery/keys"));
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toMatch(/max-age=\d+/);
    expect(response.json.keys).toEqual([
      { kty: "RSA", use: "sig", alg: "RS256", kid: expect.any(String), n: expect.any(String), e: "AQAB" },
    ]);
  });
});

describe("a create and a later change that the change feed reads as one version", () => {
  it("reach a created subscriber not at all, and an updated subscriber once, as updated with the latest state", async () => {
    const team = randomUUID();
    const createdOnly = await receivers.start();
    const both = await receivers.start();
    const blocker = await receivers.start();
    await subscribed(richBody(createdOnly, `teams/${team}/operations`, "created"));
    await subscribed(richBody(both, `teams/${team}/operations`, "created,updated"));
    // A receiver that holds its POST open: while the change feed's invocation waits for it (up to the delivery
    // timeout), the feed is not read, so what is written meanwhile reaches it as the latest version only.
    await subscribed({
      changeType: "created",
      notificationUrl: blocker.url,
      resource: `teams/${team}/operations`,
      expirationDateTime: inMinutes(50),
    });
    blocker.notify = "hang";
    const first = await createOperation(team);
    await waitFor(() => blocker.received.some((n) => n.resourceData.id === first) || undefined, "the blocked batch");

    const id = await createOperation(team);
    await patchOperation(team, id, { status: "inProgress", attemptsCount: 1 });
    blocker.notify = "accept";

    const { item } = await notified(both, id, "updated");
    expect(decryptResource(item.encryptedContent, CERT.privateKeyPem)).toMatchObject({
      id,
      status: "inProgress",
      attemptsCount: 1,
    });
    // A later operation reaches the created subscriber, so anything about the first would have come before it.
    const marker = await createOperation(team);
    await notified(createdOnly, marker, "created");
    expect(createdOnly.received.filter((n) => n.resourceData.id === id)).toEqual([]);
    expect(both.received.filter((n) => n.resourceData.id === id).map((n) => n.changeType)).toEqual(["updated"]);
  });
});
