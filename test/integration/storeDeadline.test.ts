/**
 * Every store call has a deadline of its own, shorter than the SDK's retries could
 * take: a store that accepts connections and never answers must not hold a call.
 * Shown with the health ping, whose deadline the caller gives (2 s in the app).
 */
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LOCAL_COSMOS_KEY } from "../../local/embeddedCosmos.js";
import { CosmosOperationStore } from "../../shared/store/operations.js";
import { COSMOS_DEFAULTS } from "../../shared/config.js";

let silent: Server;
const sockets: Socket[] = [];
beforeAll(async () => {
  // Accepts every connection, reads what is sent, never answers.
  silent = createServer((socket) => {
    sockets.push(socket);
    socket.resume();
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

it("gives up on a store that never answers at the call's deadline, not the SDK's timeouts", async () => {
  const store = await CosmosOperationStore.connect({
    endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`,
    key: LOCAL_COSMOS_KEY,
    database: COSMOS_DEFAULTS.database,
    container: "operations",
    managedIdentityClientId: undefined,
    credential: "managedidentity",
  });
  const started = performance.now();
  expect(await store.ping(300)).toBe(false);
  const elapsed = performance.now() - started;
  // The SDK alone would wait 5 s per attempt (requestTimeout) and retry.
  expect(elapsed).toBeGreaterThanOrEqual(250);
  expect(elapsed).toBeLessThan(3_000);
  expect(sockets.length).toBeGreaterThan(0);
});
