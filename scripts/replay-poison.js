// Replays a poison queue into its queue once the cause is fixed: every message of <queue>-poison goes back on
// <queue> (an inbox poison record as the message it holds), then leaves the poison queue. docs/operations.md.
//
//   npm run replay-poison -- <queue> [--max <n>] [--account-url <https://<account>.queue.core.windows.net>]
//
// Which account:
//   - AzureWebJobsStorage, when set: that connection string;
//   - --account-url, or AZURE_STORAGE_QUEUE_ENDPOINT (an output of the deployment, in `azd env get-values`): a
//     deployed account, as the signed-in identity (Azure CLI or azd sign-in, through @azure/identity), which needs
//     Storage Queue Data Contributor on it;
//   - otherwise the local Azurite of `npm start` (AZURITE_QUEUE_PORT, default 10001).
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";

const root = resolve(import.meta.dirname, "..");
const load = (path) => import(pathToFileURL(resolve(root, path)).href);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { max: { type: "string" }, "account-url": { type: "string" } },
});
const queue = positionals[0]?.replace(/-poison$/, "");
if (!queue || positionals.length > 1) {
  console.error("usage: npm run replay-poison -- <queue> [--max <n>] [--account-url <queue endpoint>]");
  process.exit(2);
}
const max = values.max === undefined ? undefined : Number(values.max);
if (max !== undefined && !(Number.isInteger(max) && max > 0)) {
  console.error(`--max must be a positive whole number, not "${values.max}".`);
  process.exit(2);
}

const { QueueServiceClient } = await import("@azure/storage-queue");
const { replayPoisonQueue } = await load("dist/shared/events/replay.js");

async function service() {
  if (process.env.AzureWebJobsStorage) {
    return {
      client: QueueServiceClient.fromConnectionString(process.env.AzureWebJobsStorage),
      where: "AzureWebJobsStorage",
    };
  }
  const url = values["account-url"] ?? process.env.AZURE_STORAGE_QUEUE_ENDPOINT;
  if (url) {
    const { DefaultAzureCredential } = await import("@azure/identity");
    return {
      client: new QueueServiceClient(url, new DefaultAzureCredential()),
      where: `${url} as the signed-in identity`,
    };
  }
  const { devStorageConnectionString } = await load("dist/local/azurite.js");
  const port = Number(process.env.AZURITE_QUEUE_PORT ?? 10001);
  return {
    client: QueueServiceClient.fromConnectionString(devStorageConnectionString(port)),
    where: `Azurite at 127.0.0.1:${port}`,
  };
}

const { client, where } = await service();
const poison = client.getQueueClient(`${queue}-poison`);
const target = client.getQueueClient(queue);
try {
  if (!(await poison.exists())) throw new Error(`${poison.name} does not exist in ${where}.`);
  if (!(await target.exists())) throw new Error(`${target.name} does not exist in ${where}.`);
  const result = await replayPoisonQueue(poison, target, { max, log: (line) => console.error(line) });
  console.log(
    `${result.replayed} message${result.replayed === 1 ? "" : "s"} moved from ${poison.name} to ${target.name} (${where})` +
      (result.skipped.length > 0 ? `; ${result.skipped.length} left in ${poison.name}, above` : ""),
  );
} catch (error) {
  console.error(`replay-poison: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
