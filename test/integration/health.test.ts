/**
 * GET /health tells the truth about the store: 200 while it answers, 503
 * (with Retry-After) once it does not, and never more than what is down.
 * Under a flood of anonymous calls it stays honest and cheap: one ping of
 * the store serves every caller for a few seconds.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ensureLocalContainer, startEmbeddedCosmos } from "../../local/embeddedCosmos.js";
import { startFaultProxy } from "../support/faultProxy.js";
import { call } from "../support/http.js";
import { spawnRunner, startStack } from "../support/stack.js";
import { COSMOS_DEFAULTS } from "../../shared/config.js";

it("answers 200 while the store answers and 503 when it is down, naming only what is down", async () => {
  const cosmos = await startEmbeddedCosmos();
  await ensureLocalContainer(cosmos.endpoint, cosmos.key, COSMOS_DEFAULTS.database, COSMOS_DEFAULTS.container);
  const devDir = mkdtempSync(join(tmpdir(), "teamops-health-"));
  const runner = await spawnRunner({
    LOCAL_QUEUES: "off",
    COSMOS_ENDPOINT: cosmos.endpoint,
    COSMOS_KEY: cosmos.key,
    TEAMOPS_DEV_DIR: devDir,
  });
  try {
    const { baseUrl } = runner;
    const up = await call(`${baseUrl}/health`);
    expect(up.status).toBe(200);
    expect(up.json).toEqual({ status: "healthy", checks: { store: "up" } });
    expect(up.headers.get("cache-control")).toBe("no-store");

    await cosmos.close();
    // The last answer stands for a few seconds; then the store is asked again.
    const deadline = Date.now() + 20_000;
    let down = await call(`${baseUrl}/health`);
    while (down.status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      down = await call(`${baseUrl}/health`);
    }
    expect(down.status).toBe(503);
    expect(down.json).toEqual({ status: "unhealthy", checks: { store: "down" } });
    expect(down.headers.get("retry-after")).toBe("5");
    expect(down.text).not.toContain("127.0.0.1");
  } finally {
    await runner.stop();
    rmSync(devDir, { recursive: true, force: true });
  }
});

it("stays healthy under 300 concurrent anonymous callers, asking the store only now and then", async () => {
  let proxy: Awaited<ReturnType<typeof startFaultProxy>> | undefined;
  const stack = await startStack({
    cosmosEndpointFor: async (endpoint) => {
      proxy = await startFaultProxy(endpoint);
      return proxy.endpoint;
    },
  });
  try {
    proxy!.resetLog();
    const answers = [];
    for (let round = 0; round < 8; round++) {
      answers.push(...(await Promise.all(Array.from({ length: 300 }, () => call(`${stack.baseUrl}/health`)))));
    }
    expect(answers).toHaveLength(2_400);
    const statuses = answers.reduce<Record<number, number>>(
      (n, res) => ({ ...n, [res.status]: (n[res.status] ?? 0) + 1 }),
      {},
    );
    expect(statuses).toEqual({ 200: 2_400 });
    // What reached the store: reads of the container, the health ping. Every call made one before.
    const pings = proxy!.log.filter((r) => r.method === "GET" && /\/colls\/[^/]+\/?$/.test(r.path));
    expect(pings.length).toBeGreaterThan(0);
    expect(pings.length).toBeLessThan(answers.length / 100);
  } finally {
    await stack.stop();
    await proxy?.close();
  }
}, 120_000);
