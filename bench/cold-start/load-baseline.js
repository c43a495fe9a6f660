// The cold-start baseline: a fresh process that loads only the two SDKs every
// function app here needs, constructs a CosmosClient and makes one call to the
// store, as the app's first /health does.
const { app } = await import("@azure/functions");
const { CosmosClient } = await import("@azure/cosmos");
const loaded = performance.now();
if (typeof app.http !== "function") throw new Error("@azure/functions did not load");
const endpoint = process.env.COSMOS_ENDPOINT;
const client = new CosmosClient({
  endpoint,
  key: process.env.COSMOS_KEY,
  connectionPolicy: { enableEndpointDiscovery: false },
});
await client
  .database(process.env.COSMOS_DATABASE ?? "teamops")
  .container(process.env.COSMOS_CONTAINER ?? "operations")
  .read();
process.stdout.write(JSON.stringify({ loaded, ready: performance.now() }) + "\n");
