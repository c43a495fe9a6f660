/**
 * Graceful shutdown of the local runner: on SIGTERM it stops accepting,
 * finishes the requests in flight, and stops Azurite and the embedded store
 * before exiting 0.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { mintDevToken, ensureDevKeys } from "../../local/devIdentity.js";
import { call, TEAM } from "../support/http.js";
import { PROJECT_ROOT } from "../support/stack.js";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createServer().listen(port, "127.0.0.1");
    socket.once("listening", () => socket.close(() => resolve(false)));
    socket.once("error", () => resolve(true));
  });
}

it("finishes in-flight requests, then stops Azurite and the store, on SIGTERM", async () => {
  const devDir = mkdtempSync(join(tmpdir(), "teamops-shutdown-"));
  const [azuritePort, cosmosPort] = [await freePort(), await freePort()];
  const runner = spawn(process.execPath, ["dist/local/runner.js"], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: "0",
      TEAMOPS_DEV_DIR: devDir,
      AZURITE_QUEUE_PORT: String(azuritePort),
      COSMOS_PORT: String(cosmosPort),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let printed = "";
  runner.stderr.on("data", (c: Buffer) => (printed += c.toString()));
  try {
    const baseUrl = await new Promise<string>((resolve, reject) => {
      runner.stdout.on("data", (c: Buffer) => {
        printed += c.toString();
        const match = /listening on (http:\/\/\S+)[\s\S]*token:/.exec(printed);
        if (match?.[1]) resolve(match[1]);
      });
      runner.once("exit", (code) => reject(new Error(`runner exited ${code}: ${printed}`)));
    });
    expect(printed).toContain(`Azurite at 127.0.0.1:${azuritePort}`);
    expect(await portOpen(azuritePort)).toBe(true);
    expect(await portOpen(cosmosPort)).toBe(true);

    const token = await mintDevToken({ app: true }, await ensureDevKeys(devDir));
    const exited = new Promise<number | null>((resolve) => runner.once("exit", (code) => resolve(code)));
    const inFlight = Array.from({ length: 20 }, (_, i) =>
      call(`${baseUrl}/teams/${TEAM}/operations`, {
        method: "POST",
        token,
        body: { id: `drain-${i}`, operationType: "cloneTeam" },
      }),
    );
    await new Promise((r) => setTimeout(r, 5));
    runner.kill("SIGTERM");
    const results = await Promise.allSettled(inFlight);
    expect(await exited).toBe(0);
    // Every request the runner had accepted was answered; none got a server error.
    const answered = results.filter((r) => r.status === "fulfilled").map((r) => r.value.status);
    expect(answered.every((status) => status === 201)).toBe(true);
    expect(answered.length).toBeGreaterThan(0);
    expect(printed).toContain("SIGTERM: stopping");
    expect(await portOpen(azuritePort)).toBe(false);
    expect(await portOpen(cosmosPort)).toBe(false);
  } finally {
    if (runner.exitCode === null) runner.kill("SIGKILL");
    rmSync(devDir, { recursive: true, force: true });
  }
});
