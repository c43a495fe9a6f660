/**
 * The deployment package: `dist-bundle/`, made by `npm run build`, is the
 * whole app. A copy of it outside the repository (so no `node_modules` can be
 * found above it) must load in a fresh process and register every function,
 * and every module in it must load, including the chunks loaded on demand
 * (Application Insights, managed identity).
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../support/stack.js";

const run = promisify(execFile);

describe("the deployment package (dist-bundle/)", () => {
  let copy: string;
  // The app as tsc compiled it, before bundling: the host's glob over dist/ (symlinked, so it finds node_modules).
  let unbundled: string;
  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), "teamops-package-"));
    cpSync(join(PROJECT_ROOT, "dist-bundle"), copy, { recursive: true });
    unbundled = mkdtempSync(join(tmpdir(), "teamops-unbundled-"));
    writeFileSync(
      join(unbundled, "package.json"),
      JSON.stringify({ type: "module", main: "dist/{index.js,functions/*.js}" }),
    );
    symlinkSync(join(PROJECT_ROOT, "dist"), join(unbundled, "dist"), "dir");
  });
  afterAll(() => {
    rmSync(copy, { recursive: true, force: true });
    rmSync(unbundled, { recursive: true, force: true });
  });

  it("has host.json and a package.json whose main is the bundle, with nothing to install", () => {
    const pkg = JSON.parse(readFileSync(join(copy, "package.json"), "utf8")) as Record<string, unknown>;
    expect(pkg).toMatchObject({ type: "module", main: "index.js" });
    expect(pkg.dependencies).toBeUndefined();
    expect(existsSync(join(copy, "index.js"))).toBe(true);
    expect(JSON.parse(readFileSync(join(copy, "host.json"), "utf8"))).toEqual(
      JSON.parse(readFileSync(join(PROJECT_ROOT, "host.json"), "utf8")),
    );
    expect(existsSync(join(copy, "node_modules"))).toBe(false);
    // Source maps stay local: azd and Core Tools honour the package's .funcignore.
    expect(readFileSync(join(copy, ".funcignore"), "utf8").split("\n")).toContain("*.map");
  });

  /** Loads the app at `root` as the host does, in a fresh process, then imports every module under `root`. */
  async function loadIn(root: string, importEverything: boolean) {
    const script = `
      import { readdirSync } from "node:fs";
      import { join } from "node:path";
      import { pathToFileURL } from "node:url";
      const { loadFunctionApp } = await import(${JSON.stringify(join(PROJECT_ROOT, "dist/local/functionsHost.js"))});
      const root = process.cwd();
      const functions = await loadFunctionApp(root);
      const modules = ${importEverything} ? readdirSync(root, { recursive: true }).filter((f) => f.endsWith(".js")) : [];
      for (const file of modules) await import(pathToFileURL(join(root, file)).href);
      console.log(JSON.stringify({ functions: functions.map((f) => f.name).sort(), modules: modules.length }));
      process.exit(0);`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        COSMOS_ENDPOINT: "https://127.0.0.1:1/",
        AUTH_AUDIENCES: "api://test",
        AUTH_TENANTS: "*",
        APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${randomUUID()};IngestionEndpoint=https://127.0.0.1:9/`,
      },
    });
    return JSON.parse(stdout) as { functions: string[]; modules: number };
  }

  it("loads on its own, every module included, and registers what the unbundled app registers", async () => {
    // Every module is imported too: the chunks loaded on demand must resolve without node_modules.
    const packaged = await loadIn(copy, true);
    const compiled = await loadIn(unbundled, false);
    expect(compiled.functions.length).toBeGreaterThan(10);
    expect(packaged.functions).toEqual(compiled.functions);
    expect(packaged.modules).toBeGreaterThan(1);
  });
});
