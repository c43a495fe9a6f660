/**
 * GET /health tells the truth about the store: 200 while it answers, 503
 * (with Retry-After) once it does not, and never more than what is down.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ensureLocalContainer, startEmbeddedCosmos } from "../../local/embeddedCosmos.js";
import { call } from "../support/http.js";
import { spawnRunner } from "../support/stack.js";

it("answers 200 while the store answers and 503 when it is down, naming only what is down", async () => {
  const cosmos = await startEmbeddedCosmos();
  await ensureLocalContainer(cosmos.endpoint, cosmos.key, "teamops", "operations");
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
    const down = await call(`${baseUrl}/health`);
    expect(down.status).toBe(503);
    expect(down.json).toEqual({ status: "unhealthy", checks: { store: "down" } });
    expect(down.headers.get("retry-after")).toBe("5");
    expect(down.text).not.toContain("127.0.0.1");
  } finally {
    await runner.stop();
    rmSync(devDir, { recursive: true, force: true });
  }
});
