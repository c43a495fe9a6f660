// The store of bench/scale.js: the embedded store (local/embeddedCosmos.ts) with one change to its query engine
// (@zeit/cosmosdb-query, inside @vercel/cosmosdb-server). The engine collects a query's rows with
// `rows.reduce((all, row) => [...all, { row }], [])`, which copies the list once per row: a query over 10,000
// documents took 0.3-0.7 s and one over 20,000 more than a minute. Here the same rows are collected with
// `filter` and `map`, in one pass; every result is the same. (Every query of the engine still reads the whole
// container: there is no index.)
//   COSMOS_PORT (default 0)
import { createRequire } from "node:module";
import { COSMOS_DEFAULTS } from "../dist/shared/config.js";
import { ensureLocalContainer, startEmbeddedCosmos } from "../dist/local/embeddedCosmos.js";

const fromServer = createRequire(createRequire(import.meta.url).resolve("@vercel/cosmosdb-server"));
const compile = fromServer("@zeit/cosmosdb-query").default;
const QUADRATIC =
  /\$c\.reduce\(\(\$, (\w+)\) => typeof \1 !== "undefined" \? \[\.\.\.\$, \{\s*\1: \1\s*\}\] : \$, \[\]\)/g;
const query = Object.getPrototypeOf(compile("SELECT * FROM c"));
const generated = Object.getOwnPropertyDescriptor(query, "code");
if (!generated?.get || !compile("SELECT * FROM c").code.match(QUADRATIC)) {
  throw new Error("@zeit/cosmosdb-query no longer generates the code this store changes: look again");
}
Object.defineProperty(query, "code", {
  get() {
    return generated.get
      .call(this)
      .replace(QUADRATIC, (_, row) => `$c.filter(${row} => typeof ${row} !== "undefined").map(${row} => ({ ${row} }))`);
  },
});

const store = await startEmbeddedCosmos(Number(process.env.COSMOS_PORT ?? 0));
for (const kind of ["operations", "subscriptions"]) {
  await ensureLocalContainer(
    store.endpoint,
    store.key,
    COSMOS_DEFAULTS.database,
    COSMOS_DEFAULTS[kind === "operations" ? "container" : "subscriptionsContainer"],
    kind,
  );
}
console.log(`Embedded Cosmos DB server at ${store.endpoint}`);
process.once("SIGTERM", () => void store.close().then(() => process.exit(0)));
