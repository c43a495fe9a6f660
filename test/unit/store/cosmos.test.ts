/**
 * shared/store/cosmos.ts is the one Cosmos DB layer: the only deployed module that uses @azure/cosmos at run time,
 * and the one place a document from the store loses its system fields.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { storedOf, SYSTEM_FIELDS, withoutSystemFields } from "../../../shared/store/cosmos.js";

const ROOT = resolve(import.meta.dirname, "../../..");

/** The deployed sources that import @azure/cosmos other than for types alone. */
function cosmosImporters(): string[] {
  const files = [
    "index.ts",
    ...["shared", "functions"].flatMap((folder) =>
      readdirSync(join(ROOT, folder), { recursive: true, encoding: "utf8" })
        .filter((file) => file.endsWith(".ts"))
        .map((file) => join(folder, file)),
    ),
  ];
  return files.filter((file) =>
    [
      ...readFileSync(join(ROOT, file), "utf8").matchAll(/^\s*import\s+(type\s+)?[^;]*?\bfrom\s+"@azure\/cosmos"/gms),
    ].some((m) => m[1] === undefined),
  );
}

describe("the Cosmos DB layer", () => {
  it("is the only deployed module that uses @azure/cosmos (others may name its types)", () => {
    expect(cosmosImporters()).toEqual(["shared/store/cosmos.ts"]);
  });

  it("gives documents back without Cosmos DB's system fields, with the ETag the store gave", () => {
    const resource = {
      id: "a",
      teamId: "t",
      n: 1,
      _rid: "r",
      _self: "s",
      _etag: '"e"',
      _attachments: "x",
      _ts: 1,
      _lsn: 2,
    };
    expect(withoutSystemFields(resource)).toEqual({ id: "a", teamId: "t", n: 1 });
    expect(storedOf(resource)).toEqual({ document: { id: "a", teamId: "t", n: 1 }, etag: '"e"' });
    expect(storedOf(resource, '"other"').etag).toBe('"other"');
    expect(resource._rid).toBe("r");
    expect([...SYSTEM_FIELDS].sort()).toEqual(["_attachments", "_etag", "_lsn", "_rid", "_self", "_ts"]);
  });
});
