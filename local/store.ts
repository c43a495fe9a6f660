/**
 * `npm run start:store`: the embedded Cosmos DB server alone, on the
 * emulator's port (8081), with the database and container created. For
 * `func start` users: local.settings.sample.json points at it.
 */
import { COSMOS_DEFAULTS } from "../shared/config.js";
import { ensureLocalContainer, startEmbeddedCosmos } from "./embeddedCosmos.js";

const port = Number(process.env.COSMOS_PORT ?? 8081);
const cosmos = await startEmbeddedCosmos(port);
await ensureLocalContainer(
  cosmos.endpoint,
  cosmos.key,
  process.env.COSMOS_DATABASE ?? COSMOS_DEFAULTS.database,
  process.env.COSMOS_CONTAINER ?? COSMOS_DEFAULTS.container,
);
console.log(`Embedded Cosmos DB server at ${cosmos.endpoint} (Ctrl+C to stop)`);
const stop = () => void cosmos.close().then(() => process.exit(0));
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
