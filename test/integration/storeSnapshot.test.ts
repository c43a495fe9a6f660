/**
 * The local store's data across restarts (local/storeSnapshot.ts): the
 * embedded server is started with a data file, written through @azure/cosmos,
 * stopped, and started again from the same file.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CosmosClient } from "@azure/cosmos";
import { afterAll, describe, expect, it } from "vitest";
import { ensureLocalContainer, startEmbeddedCosmos } from "../../local/embeddedCosmos.js";
import { COSMOS_DEFAULTS } from "../../shared/config.js";
import { cosmosClientOptions } from "../../shared/store/cosmos.js";
import { waitFor } from "../support/receiver.js";

const DATABASE = COSMOS_DEFAULTS.database;

const dir = mkdtempSync(join(tmpdir(), "teamops-snapshot-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function client(endpoint: string, key: string) {
  return new CosmosClient({ endpoint, key, ...cosmosClientOptions(endpoint) });
}

describe("the embedded store with a data file", () => {
  it("keeps databases, container settings and documents across a stop and a start", async () => {
    const file = join(dir, "keep", "store.json");
    const first = await startEmbeddedCosmos(0, "127.0.0.1", { dataFile: file });
    expect(first.restored).toBe(0);
    await ensureLocalContainer(first.endpoint, first.key, DATABASE, "operations");
    const written = Array.from({ length: 150 }, (_, i) => ({
      id: `${randomUUID()}`,
      teamId: `team-${i % 3}`,
      status: i % 2 ? "inProgress" : "succeeded",
      nested: { n: i, text: "héllo ✓" },
    }));
    const a = client(first.endpoint, first.key);
    const container = a.database(DATABASE).container("operations");
    for (const doc of written) await container.items.create(doc);
    await container.item(written[0]!.id, written[0]!.teamId).delete();
    a.dispose();
    await first.close();

    const second = await startEmbeddedCosmos(0, "127.0.0.1", { dataFile: file });
    expect(second.restored).toBe(149);
    const b = client(second.endpoint, second.key);
    const { resource: definition } = await b.database(DATABASE).container("operations").read();
    expect(definition?.partitionKey?.paths).toEqual(["/teamId"]);
    expect(definition?.defaultTtl).toBe(-1);
    const { resources } = await b
      .database(DATABASE)
      .container("operations")
      .items.readAll<Record<string, unknown>>()
      .fetchAll();
    const byId = new Map(resources.map((r) => [r.id, r]));
    expect(byId.size).toBe(149);
    expect(byId.has(written[0]!.id)).toBe(false);
    for (const doc of written.slice(1)) expect(byId.get(doc.id)).toMatchObject(doc);
    // Point reads by partition key still work on restored documents.
    const { resource } = await b.database(DATABASE).container("operations").item(written[7]!.id, "team-1").read();
    expect(resource?.nested).toEqual({ n: 7, text: "héllo ✓" });
    b.dispose();
    await second.close();
  });

  it("has a change on disk before the write is acknowledged, and writes nothing more while nothing changes", async () => {
    const file = join(dir, "soon", "store.json");
    const store = await startEmbeddedCosmos(0, "127.0.0.1", { dataFile: file });
    await ensureLocalContainer(store.endpoint, store.key, DATABASE, "operations");
    const c = client(store.endpoint, store.key);
    await c.database(DATABASE).container("operations").items.create({ id: "x1", teamId: "t" });
    const journal = readFileSync(join(dir, "soon", "store.journal"), "utf8");
    expect(journal).toContain('"x1"');
    await c.database(DATABASE).container("operations").items.readAll().fetchAll();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(readFileSync(join(dir, "soon", "store.journal"), "utf8")).toBe(journal);
    c.dispose();
    await store.close();
  });

  it("writes the base again once the journal outgrows it, and starts the journal anew; a restart has everything", async () => {
    const file = join(dir, "compact", "store.json");
    const journal = join(dir, "compact", "store.journal");
    const first = await startEmbeddedCosmos(0, "127.0.0.1", { dataFile: file });
    await ensureLocalContainer(first.endpoint, first.key, DATABASE, "operations");
    const a = client(first.endpoint, first.key);
    const container = a.database(DATABASE).container("operations");
    const baseBefore = statSync(file).size;
    // About 1.3 MiB of changes: past the 1 MiB the journal may reach before the base is written again.
    const ids = Array.from({ length: 1_300 }, (_, i) => `doc-${i}`);
    for (let at = 0; at < ids.length; at += 50) {
      await Promise.all(
        ids.slice(at, at + 50).map((id) => container.items.create({ id, teamId: "t", padding: "p".repeat(1_000) })),
      );
    }
    await waitFor(() => statSync(file).size > baseBefore + 1_000_000, "the base written again");
    await waitFor(() => statSync(journal).size < 1_000_000, "the journal started anew");
    a.dispose();
    await first.close();
    expect(statSync(journal).size).toBe(0); // a stop after changes writes the base once more

    const second = await startEmbeddedCosmos(0, "127.0.0.1", { dataFile: file });
    expect(second.restored).toBe(ids.length);
    await second.close();
  });

  it("refuses a damaged data file with a message that says how to start empty", async () => {
    const file = join(dir, "damaged.json");
    writeFileSync(file, "{not json");
    await expect(startEmbeddedCosmos(0, "127.0.0.1", { dataFile: file })).rejects.toThrow(/npm run reset/);
  });
});
