/**
 * The deployment package: `dist-bundle/`, made by `npm run build`, is the
 * whole app. A copy of it outside the repository (so no `node_modules` can be
 * found above it) must load in a fresh process and register every function,
 * and every module in it must load, including the chunks loaded on demand
 * (Application Insights, managed identity).
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import ignore from "ignore";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { PROJECT_ROOT } from "../support/stack.js";

const run = promisify(execFile);

/** Loads the app at `root` as the host does, in a fresh process, then imports every module under `root`. */
async function loadAppIn(root: string, importEverything: boolean) {
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

  it("loads on its own, every module included, and registers what the unbundled app registers", async () => {
    // Every module is imported too: the chunks loaded on demand must resolve without node_modules.
    const packaged = await loadAppIn(copy, true);
    const compiled = await loadAppIn(unbundled, false);
    expect(compiled.functions.length).toBeGreaterThan(10);
    expect(packaged.functions).toEqual(compiled.functions);
    expect(packaged.modules).toBeGreaterThan(1);
  });
});

/**
 * What `azd deploy` does with this repository, by the rules of azd's function app target for a Flex Consumption
 * app (`resolveFunctionAppRemoteBuild` and `createDeployableZip` in azure-dev's service_target_functionapp.go and
 * project/util.go): it reads the `.funcignore` of the service's `project` folder and refuses `remoteBuild: false`
 * when that file ignores `node_modules` (and `remoteBuild: true` when it does not); it zips the `dist` folder less
 * what that folder's own `.funcignore` ignores, the `.funcignore` itself and `local.settings.json`. Ignore files
 * have gitignore semantics (azd uses a gitignore library; here the `ignore` package).
 */
describe("what azd deploys (azure.yaml)", () => {
  interface Service {
    project: string;
    dist: string;
    language: string;
    host: string;
    remoteBuild?: boolean;
  }
  const azureYaml = parseYaml(readFileSync(join(PROJECT_ROOT, "azure.yaml"), "utf8")) as {
    requiredVersions?: { azd?: string };
    services: Record<string, Service>;
  };
  const service = azureYaml.services.api!;
  const projectDir = join(PROJECT_ROOT, service.project);
  const distDir = join(projectDir, service.dist);

  const ignoreFileOf = (dir: string) => {
    const file = join(dir, ".funcignore");
    return existsSync(file) ? ignore().add(readFileSync(file, "utf8").replace(/^\uFEFF/, "")) : undefined;
  };

  let unpacked: string;
  let shipped: string[];
  beforeAll(() => {
    // The zip azd would upload, unpacked into a folder with no node_modules anywhere above it.
    const ignorer = ignoreFileOf(distDir);
    unpacked = mkdtempSync(join(tmpdir(), "teamops-azd-"));
    shipped = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        const rel = path
          .slice(distDir.length + 1)
          .split("\\")
          .join("/");
        if (entry.name === ".funcignore" || entry.name === "local.settings.json" || entry.name === ".azure") continue;
        if (ignorer?.ignores(entry.isDirectory() ? `${rel}/` : rel)) continue;
        if (entry.isDirectory()) {
          walk(path);
        } else {
          mkdirSync(dirname(join(unpacked, rel)), { recursive: true });
          cpSync(path, join(unpacked, rel));
          shipped.push(rel);
        }
      }
    };
    walk(distDir);
  });
  afterAll(() => rmSync(unpacked, { recursive: true, force: true }));

  it("is a TypeScript function app service deployed without a remote build", () => {
    expect(service).toMatchObject({ language: "ts", host: "function", dist: "dist-bundle", remoteBuild: false });
  });

  it("refuses an azd older than the rules above (remoteBuild 1.23.5, the .funcignore check 1.23.12, read right 1.23.13)", () => {
    // azd refuses to load a project whose requiredVersions.azd its own version does not satisfy.
    const range = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(azureYaml.requiredVersions?.azd ?? "");
    expect(range, "a lower bound on azd's version").not.toBeNull();
    const minimum = range!.slice(1).map(Number);
    const atLeast = (version: number[]) => {
      for (let i = 0; i < 3; i++) if (version[i] !== minimum[i]) return version[i]! > minimum[i]!;
      return true;
    };
    expect(atLeast([1, 23, 12])).toBe(false);
    expect(atLeast([1, 23, 13])).toBe(true);
  });

  it("passes azd's remote build check: the project's .funcignore, if any, does not ignore node_modules", () => {
    const ignorer = ignoreFileOf(projectDir);
    const nodeModulesExcluded = ignorer?.ignores("node_modules/") ?? false;
    // remoteBuild: false with node_modules excluded is refused; remoteBuild: true requires the exclusion.
    expect(nodeModulesExcluded).toBe(service.remoteBuild === true);
  });

  it("ships the bundle without source maps or ignore files", () => {
    expect(shipped).toContain("index.js");
    expect(shipped).toContain("host.json");
    expect(shipped).toContain("package.json");
    expect(shipped.filter((file) => file.endsWith(".map"))).toEqual([]);
    expect(shipped).not.toContain(".funcignore");
  });

  it("loads and registers every function from the unpacked zip", async () => {
    const packaged = await loadAppIn(unpacked, true);
    expect(packaged.functions.length).toBeGreaterThan(10);
    expect(packaged.functions).toContain("createOperation");
    expect(packaged.functions).toContain("processOperationsInbox");
  });
});
