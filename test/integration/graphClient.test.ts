/**
 * A user of Microsoft Graph's own JavaScript SDK must be able to use it,
 * unchanged, against this API: requests, paging with PageIterator, and
 * failures as GraphError.
 */
import { randomUUID } from "node:crypto";
import { Client, GraphError, PageIterator, type PageCollection } from "@microsoft/microsoft-graph-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.js";
import { startTlsProxy, type TlsProxy } from "../support/tlsProxy.js";

let stack: Stack;
let proxy: TlsProxy;
let client: Client;
const team = randomUUID();

beforeAll(async () => {
  // The SDK sends tokens only over https and follows only https nextLinks, as a deployed API is reached.
  // So the runner sits behind a TLS proxy, with PUBLIC_BASE_URL naming the proxy; the proxy's
  // certificate is self-signed, hence trust without verification in this test process only.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  proxy = await startTlsProxy();
  stack = await startStack({ env: { PUBLIC_BASE_URL: proxy.origin } });
  proxy.target = new URL(stack.baseUrl).origin;
  const token = await stack.token({ app: true });
  client = Client.init({
    baseUrl: proxy.origin,
    defaultVersion: "v1.0",
    customHosts: new Set(["127.0.0.1"]),
    authProvider: (done) => done(null, token),
  });
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
});

describe("the official Microsoft Graph JavaScript client", () => {
  it("creates, reads, updates and deletes an operation", async () => {
    const created = await client.api(`/teams/${team}/operations`).post({ operationType: "archiveTeam" });
    expect(created.status).toBe("notStarted");
    const read = await client.api(`/teams/${team}/operations/${created.id}`).get();
    expect(read.id).toBe(created.id);
    const updated = await client
      .api(`/teams/${team}/operations/${created.id}`)
      .patch({ status: "succeeded", lastActionDateTime: new Date().toISOString() });
    expect(updated.status).toBe("succeeded");
    await client.api(`/teams/${team}/operations/${created.id}`).delete();
  });

  it("pages through a collection with PageIterator, using its query helpers", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 12; i++) {
      ids.add((await client.api(`/teams/${team}/operations`).post({ operationType: "cloneTeam" })).id);
    }
    const first = (await client
      .api(`/teams/${team}/operations`)
      .top(5)
      .count(true)
      .select(["id", "status"])
      .filter("status eq 'notStarted'")
      .get()) as PageCollection;
    expect(first["@odata.count"]).toBe(12);
    const sorted = (await client
      .api(`/teams/${team}/operations`)
      .orderby("lastActionDateTime desc,createdDateTime")
      .top(20)
      .get()) as PageCollection;
    const keys = sorted.value.map((o: { lastActionDateTime: string; createdDateTime: string }) => [
      o.lastActionDateTime,
      o.createdDateTime,
    ]);
    expect(keys).toEqual([...keys].sort(([la, ca], [lb, cb]) => lb!.localeCompare(la!) || ca!.localeCompare(cb!)));
    const seen: string[] = [];
    const iterator = new PageIterator(client, first, (item: { id: string }) => {
      seen.push(item.id);
      return true;
    });
    await iterator.iterate();
    expect(new Set(seen)).toEqual(ids);
    expect(seen).toHaveLength(12);
  });

  it("surfaces errors as GraphError with Graph's code and status", async () => {
    const error = await client
      .api(`/teams/${team}/operations/missing`)
      .get()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphError);
    expect((error as GraphError).statusCode).toBe(404);
    expect((error as GraphError).code).toBe("itemNotFound");
    expect((error as GraphError).requestId).toMatch(/^[0-9a-f-]{36}$/);

    const invalid = await client
      .api(`/teams/${team}/operations`)
      .post({ operationType: "cloneTeam", colour: "red" })
      .catch((e: unknown) => e);
    expect((invalid as GraphError).statusCode).toBe(400);
    expect((invalid as GraphError).body).toContain("colour");
  });
});
