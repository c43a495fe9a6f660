/**
 * Azurite's queue service for local runs and tests: the storage account the
 * Functions host would use, on loopback, in memory.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { connect, createServer, type AddressInfo } from "node:net";

/** Azurite's published development account (the same as `UseDevelopmentStorage=true`). */
export const DEV_ACCOUNT = "devstoreaccount1";
export const DEV_ACCOUNT_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export function devStorageConnectionString(queuePort: number): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_ACCOUNT_KEY};` +
    `QueueEndpoint=http://127.0.0.1:${queuePort}/${DEV_ACCOUNT};`
  );
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

export interface Azurite {
  readonly connectionString: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Thrown when the port asked for is already taken: never reuse a server this process did not start. */
export class PortTakenError extends Error {
  constructor(readonly port: number) {
    super(`Port ${port} on 127.0.0.1 is taken.`);
    this.name = "PortTakenError";
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts Azurite's queue service on 127.0.0.1:<port> (0: a free port); a port already taken is refused, so two
 * runners never share queues by accident. With `location`, its queues and messages are kept in that folder across
 * restarts (Azurite's own persistence); without, in memory.
 */
export async function startAzuriteQueue(requestedPort = 10001, location?: string): Promise<Azurite> {
  const port = requestedPort === 0 ? await freePort() : requestedPort;
  if (await portOpen(port)) throw new PortTakenError(port);
  const connectionString = devStorageConnectionString(port);
  const main = createRequire(import.meta.url).resolve("azurite/dist/src/queue/main.js");
  const child: ChildProcess = spawn(
    process.execPath,
    [main, "--queueHost", "127.0.0.1", "--queuePort", String(port)].concat([
      ...(location ? ["--location", location] : ["--inMemoryPersistence"]),
      "--skipApiVersionCheck",
      "--disableTelemetry",
      "--silent",
      "--loose",
    ]),
    { stdio: "ignore" },
  );
  // Never outlive the runner, even when it exits without a graceful shutdown.
  const stop = () => child.kill();
  process.once("exit", stop);
  for (let i = 0; i < 100 && !(await portOpen(port)); i++) {
    if (child.exitCode !== null) throw new Error(`Azurite exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    connectionString,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        process.removeListener("exit", stop);
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
