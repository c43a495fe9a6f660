/**
 * The embedded Cosmos DB server's own SQL engine (`@zeit/cosmosdb-query`, a
 * dependency of `@vercel/cosmosdb-server`), for checking the SQL the app
 * generates: what it selects, and how much work its parser does to read it.
 */
import { createRequire } from "node:module";

const fromServer = createRequire(createRequire(import.meta.url).resolve("@vercel/cosmosdb-server"));
const engine = fromServer("@zeit/cosmosdb-query") as {
  default: (sql: string) => {
    exec(
      documents: object[],
      options: { parameters: ReadonlyArray<{ name: string; value: unknown }> },
    ): {
      result: unknown[];
    };
  };
};
const parser = fromServer("@zeit/cosmosdb-query/lib/parser.js") as { parse(input: string): unknown };

/** Runs a query over documents the way the embedded server does. */
export function runQuery(
  sql: string,
  parameters: ReadonlyArray<{ name: string; value: unknown }>,
  documents: object[],
): unknown[] {
  return engine.default(sql).exec(documents, { parameters }).result;
}

let reads = 0;
/** A string that counts how often the parser looks at it: a deterministic measure of the parser's work. */
class CountedText extends String {
  override charCodeAt(index: number): number {
    reads++;
    return super.charCodeAt(index);
  }
  override charAt(index: number): string {
    reads++;
    return super.charAt(index);
  }
  override substr(from: number, length?: number): string {
    reads++;
    return super.substr(from, length);
  }
}

/** How many characters the embedded server's SQL parser reads to parse a query (it backtracks, so often more than its length). */
export function parserReads(sql: string): number {
  reads = 0;
  parser.parse(new CountedText(sql) as unknown as string);
  return reads;
}
