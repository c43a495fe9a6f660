/**
 * The layers of docs/architecture.md, read from the sources' import statements: what each folder may import. A
 * new import that crosses a line fails here, with the file and the import named.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

function sources(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => join(folder, file));
}

/** Every relative import of a file, as a path from the project root (`shared/http/graphError.ts`). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const found = [
    ...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+)"/gms),
    ...text.matchAll(/^\s*import\s+"(\.{1,2}\/[^"]+)"/gm),
  ].map((m) => m[1]!);
  return found.map((spec) => relative(ROOT, resolve(ROOT, dirname(file), spec)).replace(/\.js$/, ".ts"));
}

/** The imports of the files under `folders` that start with one of `forbidden`, as "file -> import". */
function crossings(folders: readonly string[], forbidden: readonly string[]): string[] {
  return folders
    .flatMap(sources)
    .flatMap((file) => importsOf(file).map((target) => ({ file, target })))
    .filter(({ target }) => forbidden.some((prefix) => target.startsWith(prefix)))
    .map(({ file, target }) => `${file} -> ${target}`);
}

describe("the layers", () => {
  it("finds the imports it checks", () => {
    expect(importsOf("shared/http/pipeline.ts")).toContain("shared/http/errorMapping.ts");
    expect(importsOf("functions/createOperation.ts").sort()).toEqual([
      "index.ts",
      "shared/api/operations.ts",
      "shared/http/routes.ts",
    ]);
  });

  it("the store and the operation rules know nothing of HTTP, handlers, triggers or tokens", () => {
    expect(
      crossings(
        ["shared/store", "shared/operations"],
        ["shared/http/", "shared/api/", "shared/events/", "shared/auth/", "functions/", "local/"],
      ),
    ).toEqual([]);
  });

  it("errors and ids are the bottom layer: they import nothing of the app", () => {
    expect(importsOf("shared/errors.ts")).toEqual([]);
    expect(importsOf("shared/ids.ts")).toEqual([]);
  });

  it("Graph errors are made only at the HTTP edge: the wire conventions, the handlers and the token checks", () => {
    const graphErrors = ["shared/http/graphError.ts", "shared/http/errorMapping.ts"];
    const below = ["shared/store", "shared/operations", "shared/subscriptions"];
    expect(crossings(below, graphErrors)).toEqual([]);
    // The queue inbox poisons a refused message with the Graph error an HTTP caller would get for it.
    expect(crossings(["shared/events"], graphErrors)).toEqual([
      "shared/events/inbox.ts -> shared/http/errorMapping.ts",
    ]);
  });

  it("what is deployed never imports the local tooling, the tests, the bench or the build scripts", () => {
    expect(crossings(["shared", "functions"], ["local/", "test/", "bench/", "scripts/"])).toEqual([]);
    expect(importsOf("index.ts").filter((target) => !target.startsWith("shared/"))).toEqual([]);
  });

  it("function files only register: they import the entry and shared/, nothing else", () => {
    expect(crossings(["functions"], ["functions/", "local/"])).toEqual([]);
    for (const file of sources("functions")) {
      expect(
        importsOf(file).every((target) => target === "index.ts" || target.startsWith("shared/")),
        file,
      ).toBe(true);
    }
  });
});

describe("the layers in ESLint (eslint.config.js), where an editor shows them", () => {
  const lint = async (file: string, code: string) => {
    const eslint = new ESLint({ cwd: ROOT });
    const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
    return result!.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
  };

  it("marks an import that crosses a line, and lets one that does not pass", async () => {
    expect(await lint("shared/store/crossing.js", 'export { badRequest } from "../http/graphError.js";\n')).toEqual([
      "'../http/graphError.js' import is restricted from being used by a pattern. The store and the operation rules know nothing of HTTP, handlers, triggers or tokens.",
    ]);
    expect(
      await lint("shared/subscriptions/crossing.js", 'export { graphError } from "../http/graphError.js";\n'),
    ).toHaveLength(1);
    expect(await lint("shared/subscriptions/fine.js", 'export { teamRoutes } from "../http/teamPaths.js";\n')).toEqual(
      [],
    );
    expect(await lint("shared/api/crossing.js", 'export { x } from "../../local/runner.js";\n')).toHaveLength(1);
    expect(await lint("functions/crossing.js", 'export { x } from "./createOperation.js";\n')).toHaveLength(1);
    expect(await lint("functions/fine.js", 'export { config } from "../shared/config.js";\n')).toEqual([]);
  }, 60_000);
});
