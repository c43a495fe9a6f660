// The end-to-end baseline: a bare node:http server that makes the same single
// @azure/cosmos call as the API (items.create for POST, item().read for GET) to
// the same store, with no auth, validation or mapping. The client options are the
// app's own (cosmosClientOptions), so both sides talk to the store alike.
//   PORT, COSMOS_ENDPOINT, COSMOS_KEY, COSMOS_DATABASE, COSMOS_CONTAINER
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { CosmosClient } from "@azure/cosmos";
import { cosmosClientOptions } from "../dist/shared/store/cosmos.js";

const endpoint = process.env.COSMOS_ENDPOINT;
const client = new CosmosClient({ endpoint, key: process.env.COSMOS_KEY, ...cosmosClientOptions(endpoint) });
const container = client
  .database(process.env.COSMOS_DATABASE ?? "teamops")
  .container(process.env.COSMOS_CONTAINER ?? "operations");
const ITEM = /^\/v1\.0\/teams\/([^/]+)\/operations(?:\/([^/?]+))?$/;

function send(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

async function handle(req, res) {
  const match = ITEM.exec(req.url ?? "");
  if (!match) return send(res, 404);
  const [, teamId, id] = match;
  if (req.method === "POST" && !id) {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const { resource } = await container.items.create({ ...body, id: randomUUID(), teamId });
    return send(res, 201, resource);
  }
  if (req.method === "GET" && id) {
    const { resource } = await container.item(decodeURIComponent(id), teamId).read();
    return resource ? send(res, 200, resource) : send(res, 404);
  }
  return send(res, 405);
}

const server = createServer((req, res) => {
  handle(req, res).catch((error) => send(res, error?.code === 404 ? 404 : 500, { error: String(error) }));
});
server.keepAliveTimeout = 5_000;
server.listen(Number(process.env.PORT ?? 7090), "127.0.0.1", () => {
  console.log(`baseline listening on http://127.0.0.1:${server.address().port}`);
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
