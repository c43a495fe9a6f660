/**
 * The product's contract: Graph's reference page for creating operations ("Add operations") shows one request and
 * its answer. That request, verbatim but for its two enum placeholders, gets 201 Created with what it sent, on each
 * route the page names and on the collection itself, over real HTTP and through the Graph clients users run; and
 * what the server decides about it (the change type a subscriber is told) rests on the server's own data, not on the
 * client's lastActionDateTime.
 */
import { randomUUID } from "node:crypto";
import { Client } from "@microsoft/microsoft-graph-client";
import "@microsoft/msgraph-sdk-teams";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzuriteQueue, type Azurite } from "../../local/azurite.js";
import { acceptedMembers, OPERATION_STATUSES, OPERATION_TYPES } from "../../shared/operations/model.js";
import { toCanonicalUtc } from "../../shared/operations/timestamps.js";
import { call, type ApiResponse } from "../support/http.js";
import { graphClient } from "../support/kiota.js";
import { waitFor } from "../support/receiver.js";
import { SEED_BODY, SEED_RESPONSE, seedBodyWith } from "../support/seed.js";
import { freePort, startStack, type Stack } from "../support/stack.js";
import { inMinutes, receiverPool, subscriptionCalls } from "../support/subscriptionCalls.js";
import { startTlsProxy, type TlsProxy } from "../support/tlsProxy.js";

let azurite: Azurite;
let proxy: TlsProxy;
let stack: Stack;
let app: string;
const receivers = receiverPool();

beforeAll(async () => {
  // The Graph SDKs send tokens only over https: they reach the runner through a loopback TLS proxy whose
  // certificate is self-signed, trusted without verification in this test process only.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  proxy = await startTlsProxy();
  azurite = await startAzuriteQueue(await freePort());
  stack = await startStack({
    env: {
      PUBLIC_BASE_URL: proxy.origin,
      LOCAL_QUEUES: "on",
      AzureWebJobsStorage: azurite.connectionString,
      SUBSCRIPTION_ALLOW_LOOPBACK: "true",
    },
  });
  proxy.target = new URL(stack.baseUrl).origin;
  app = await stack.token({ app: true });
});
afterAll(async () => {
  await stack?.stop();
  await azurite?.close();
  await proxy?.close();
  await receivers.close();
});

/** The page's property values, compared as a client would: date-times as instants, to the tick. */
function expectWhatWasSent(created: Record<string, unknown>, sent: Record<string, unknown>): void {
  const properties = Object.keys(SEED_RESPONSE).filter((name) => !name.startsWith("@"));
  for (const name of properties) expect(created, `the answer has ${name}`).toHaveProperty(name);
  for (const name of properties.filter((p) => p !== "id" && p !== "createdDateTime")) {
    const value = sent[name];
    if (name === "lastActionDateTime") {
      expect(toCanonicalUtc(created[name] as string)).toBe(toCanonicalUtc(value as string));
    } else if (name === "error") {
      const { code, message } = value as { code: string; message: string };
      expect(created.error).toEqual({ code, message });
    } else {
      expect(created[name], name).toEqual(value);
    }
  }
  expect(created["@odata.type"]).toBe(SEED_RESPONSE["@odata.type"]);
}

/** A 201 whose Location answers with the same operation. */
async function expectCreatedAt(response: ApiResponse, token: string): Promise<void> {
  expect(response.status, response.text).toBe(201);
  const location = response.headers.get("location");
  expect(location).toMatch(new RegExp(`/v1\\.0/teams/[^/]+/operations/${response.json.id}$`));
  const read = await call(location!.replace(proxy.origin, new URL(stack.baseUrl).origin), { token });
  expect(read.status, read.text).toBe(200);
  expect(read.json).toEqual(response.json);
}

describe("Graph's documented example", () => {
  const team = randomUUID();
  const routes = [
    { path: `teams/${team}/operations`, token: () => app },
    { path: `teams/${team}/operations/$ref`, token: () => app },
    { path: `me/joinedGroups/${team}/team/operations/$ref`, token: () => stack.token({ groups: [team] }) },
  ];

  for (const route of routes) {
    it(`gets 201 Created with what it sent on POST /${route.path}`, async () => {
      const token = await route.token();
      const response = await call(`${stack.baseUrl}/${route.path}`, { method: "POST", token, body: SEED_BODY });
      await expectCreatedAt(response, token);
      expectWhatWasSent(response.json, SEED_BODY);
      // The page's time, in Graph's wire form: UTC with seven fractional digits.
      expect(response.json.lastActionDateTime).toBe("2016-12-31T20:56:44.8542569Z");
    });
  }

  it("gets 201 with every real member in place of each placeholder", async () => {
    const outcomes: string[] = [];
    for (const operationType of acceptedMembers(OPERATION_TYPES, false)) {
      for (const status of acceptedMembers(OPERATION_STATUSES, false)) {
        const body = seedBodyWith(operationType, status);
        const response = await call(`${stack.baseUrl}/teams/${team}/operations`, { method: "POST", token: app, body });
        outcomes.push(`${operationType}/${status}: ${response.status}`);
        if (response.status === 201) expectWhatWasSent(response.json, body);
      }
    }
    expect(outcomes.filter((o) => !o.endsWith(": 201"))).toEqual([]);
    expect(outcomes).toHaveLength(25);
  });
});

describe("the Graph SDKs, stamping the client's own clock", () => {
  it("the Kiota SDK creates the example, and an operation whose lastActionDateTime is new Date()", async () => {
    const team = randomUUID();
    const operations = graphClient(proxy.origin, app).client.teams.byTeamId(team).operations;
    const example = await operations.post({
      operationType: "archiveTeam",
      status: "inProgress",
      lastActionDateTime: new Date(SEED_BODY.lastActionDateTime),
      attemptsCount: 13,
      targetResourceId: SEED_BODY.targetResourceId,
      targetResourceLocation: SEED_BODY.targetResourceLocation,
      errorEscaped: { code: "Code value", message: "Message value" },
    });
    expect(example?.lastActionDateTime?.toISOString()).toBe("2016-12-31T20:56:44.854Z");
    expect(example?.errorEscaped).toMatchObject({ code: "Code value", message: "Message value" });

    const now = new Date();
    const stamped = await operations.post({
      operationType: "cloneTeam",
      status: "inProgress",
      lastActionDateTime: now,
    });
    expect(stamped?.lastActionDateTime?.getTime()).toBe(now.getTime());
    // The client read its clock before the server stamped the creation.
    expect(stamped!.createdDateTime!.getTime()).toBeGreaterThanOrEqual(now.getTime());
  });

  it("@microsoft/microsoft-graph-client posts the example to the page's route, and new Date() on a PATCH", async () => {
    const team = randomUUID();
    const client = Client.init({
      baseUrl: proxy.origin,
      defaultVersion: "v1.0",
      customHosts: new Set(["127.0.0.1"]),
      authProvider: (done) => done(null, app),
    });
    const created = await client.api(`/teams/${team}/operations/$ref`).post(SEED_BODY);
    expectWhatWasSent(created, SEED_BODY);
    const now = new Date();
    const updated = await client
      .api(`/teams/${team}/operations/${created.id}`)
      .patch({ status: "succeeded", lastActionDateTime: now.toISOString() });
    expect(Date.parse(updated.lastActionDateTime)).toBe(now.getTime());
    expect(updated.status).toBe("succeeded");
  });
});

describe("what the server decides rests on its own data", () => {
  it("notifies a PATCH that moves lastActionDateTime back to the creation time as updated", async () => {
    const team = randomUUID();
    const receiver = await receivers.start();
    await subscriptionCalls(
      () => stack.baseUrl,
      () => app,
    ).subscribed({
      changeType: "created,updated",
      notificationUrl: receiver.url,
      resource: `teams/${team}/operations`,
      expirationDateTime: inMinutes(30),
    });
    const collection = `${stack.baseUrl}/teams/${team}/operations`;
    const created = await call(collection, { method: "POST", token: app, body: SEED_BODY });
    expect(created.status, created.text).toBe(201);
    const id = created.json.id as string;
    const patched = await call(`${collection}/${id}`, {
      method: "PATCH",
      token: app,
      body: { status: "succeeded", lastActionDateTime: created.json.createdDateTime },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json.lastActionDateTime).toBe(created.json.createdDateTime);

    const changeTypes = await waitFor(() => {
      const seen = receiver.acknowledged.filter((n) => n.resourceData.id === id).map((n) => n.changeType as string);
      return seen.includes("updated") ? seen : undefined;
    }, "the update's notification");
    // The change feed may fold the create into the update (latest version); the update is never reported as created.
    expect(changeTypes.at(-1)).toBe("updated");
    expect(changeTypes.filter((t) => t === "created").length).toBeLessThanOrEqual(1);
  });
});
