// `npm run build && node bench/filter-cost.js`: what a $filter costs the embedded store's SQL parser
// (@zeit/cosmosdb-query, inside @vercel/cosmosdb-server, on the local runner's event loop). It parses the SQL of the
// worst filter the limits allow, as the app writes it, and, for comparison, the same shapes written the way the
// translation used to (every node in its own parentheses) for a few comparisons: that form grew about eightfold per
// comparison. Median of 5 parses after 2 warm-ups; the old form only once per size, as its cost explodes.
import { createRequire } from "node:module";
import { parseFilter } from "../dist/shared/http/odata.js";
import { teamPageQuery } from "../dist/shared/store/operationQuery.js";

const fromServer = createRequire(createRequire(import.meta.url).resolve("@vercel/cosmosdb-server"));
const { parse } = fromServer("@zeit/cosmosdb-query/lib/parser.js");

function time(sql, runs = 5, warmups = 2) {
  for (let i = 0; i < warmups; i++) parse(sql);
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    parse(sql);
    samples.push(performance.now() - started);
  }
  return samples.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

const date = "lastActionDateTime ge 2001-01-01T00:00:00.1234567+05:30";
const sqlOf = (filter) =>
  teamPageQuery("t", "team", {
    filter: parseFilter(filter, false),
    orderBy: [{ property: "createdDateTime", direction: "desc" }],
  }).query;

const worst = `${date} or ${date} and (${Array.from({ length: 14 }, () => date).join(" or ")})`;
const flatAnd = Array.from({ length: 16 }, () => date).join(" and ");
const rows = [
  { filter: "16 comparisons, one and-chain", ms: time(sqlOf(flatAnd)) },
  { filter: "16 comparisons, two levels of or groups (the worst allowed)", ms: time(sqlOf(worst)) },
];

// The former translation: `(a AND b)` for every binary node, `(c.x op @f)` for every comparison.
const prefix = "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.teamId = @teamId AND ";
for (const n of [2, 3, 4]) {
  let sql = "(c.lastActionDateTime >= @f0)";
  for (let i = 1; i < n; i++) sql = `(${sql} OR (c.lastActionDateTime >= @f${i}))`;
  rows.push({ filter: `${n} comparisons, the former translation`, ms: time(prefix + sql, 1, 0) });
}

for (const row of rows) console.log(`${row.filter.padEnd(64)} ${row.ms.toFixed(1).padStart(9)} ms`);
console.log(JSON.stringify(rows));
