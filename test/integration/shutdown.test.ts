/**
 * Graceful shutdown of the local runner: on SIGTERM it stops accepting,
 * finishes the requests it is handling, and stops Azurite and the store
 * before exiting 0. The store answers through a proxy that holds each create
 * for a second, so requests are certainly in flight when the signal arrives.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ensureDevKeys, mintDevToken } from "../../local/devIdentity.js";
import { ensureLocalContainer, startEmbeddedCosmos } from "../../local/embeddedCosmos.js";
import { startFaultProxy } from "../support/faultProxy.js";
import { call, TEAM } from "../support/http.js";
import { freePort, spawnRunner } from "../support/stack.js";
import { COSMOS_DEFAULTS } from "../../shared/config.js";

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer().listen(port, "127.0.0.1");
    probe.once("listening", () => probe.close(() => resolve(false)));
    probe.once("error", () => resolve(true));
  });
}

it(
  "finishes the requests in flight, refuses new ones, then stops Azurite and exits 0",
  { timeout: 60_000 },
  async () => {
    const devDir = mkdtempSync(join(tmpdir(), "teamops-shutdown-"));
    const cosmos = await startEmbeddedCosmos();
    await ensureLocalContainer(cosmos.endpoint, cosmos.key, COSMOS_DEFAULTS.database, COSMOS_DEFAULTS.container);
    const proxy = await startFaultProxy(cosmos.endpoint);
    const azuritePort = await freePort();
    const runner = await spawnRunner({
      TEAMOPS_DEV_DIR: devDir,
      AZURITE_QUEUE_PORT: String(azuritePort),
      COSMOS_ENDPOINT: proxy.endpoint,
      COSMOS_KEY: cosmos.key,
    });
    try {
      const { baseUrl } = runner;
      expect(await portInUse(azuritePort)).toBe(true);
      const token = await mintDevToken({ app: true }, await ensureDevKeys(devDir));
      const exited = new Promise<number | null>((resolve) => runner.child.once("exit", (code) => resolve(code)));
      const post = (id: string) =>
        call(`${baseUrl}/teams/${TEAM}/operations`, {
          method: "POST",
          token,
          body: { id, operationType: "cloneTeam" },
        });

      proxy.inject("create", { kind: "delay", ms: 1_000 }, 5);
      const inFlight = ["drain-1", "drain-2", "drain-3", "drain-4", "drain-5"].map(post);
      await new Promise((r) => setTimeout(r, 300)); // all five are now waiting on the store
      runner.child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 100));
      // No longer accepting: a new request is refused at the door.
      await expect(post("too-late")).rejects.toThrow();

      const answered = await Promise.all(inFlight);
      expect(answered.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
      expect(await exited).toBe(0);
      expect(runner.output()).toContain("SIGTERM: stopping");
      expect(await portInUse(azuritePort)).toBe(false);
      const stored = proxy.log.filter((r) => r.kind === "create").length;
      expect(stored).toBe(5);
    } finally {
      await runner.stop();
      await proxy.close();
      await cosmos.close();
      rmSync(devDir, { recursive: true, force: true });
    }
  },
);
