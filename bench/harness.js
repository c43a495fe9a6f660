// What the HTTP benches run the app beside: a folder for the development keys, the embedded store in a process of
// its own, the ingestion endpoint on loopback and the streaming variant of the app. `close` stops every process on
// `started` (the store, and the runners a bench adds), then the rest, and removes the folder.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { streamingApp } from "./app-roots.js";
import { startIngestion } from "./ingestion.js";
import { startStore } from "./processes.js";

export async function startHarness(name) {
  const devDir = mkdtempSync(join(tmpdir(), `teamops-bench-${name}-`));
  const started = [];
  let ingestion;
  let streaming;
  const close = async () => {
    for (const p of started.reverse()) await p.stop();
    await ingestion?.close();
    streaming?.remove();
    rmSync(devDir, { recursive: true, force: true });
  };
  try {
    const store = await startStore();
    started.push(store);
    ingestion = await startIngestion();
    streaming = await streamingApp();
    return { devDir, started, store, ingestion, streaming, close };
  } catch (error) {
    await close();
    throw error;
  }
}
