/**
 * Azure Functions Core Tools as the optional dependency they are: `npm ci` installs them where their install script
 * can download the Functions host and must stay green, and not hang, where it cannot; `npm run start:func` runs the
 * project's own when they are there, and says exactly what to install when there is no func at all.
 *
 * The install runs in a project of its own holding only that dependency, with the project's own lock entries for it,
 * and with the host's download sent to a proxy that refuses every connection (npm reaches its registry directly).
 */
import { execFile } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { findFunc } from "../../scripts/prepare-local.js";
import { freePort, PROJECT_ROOT } from "../support/stack.js";

const run = promisify(execFile);
const PACKAGE = "azure-functions-core-tools";
const folders: string[] = [];
const folder = (prefix: string) => {
  const path = mkdtempSync(join(tmpdir(), prefix));
  folders.push(path);
  return path;
};
afterAll(() => {
  for (const path of folders) rmSync(path, { recursive: true, force: true });
});

/** npm's own script (npm-cli.js), to run it on this Node.js. */
function npmCli(): string {
  if (process.env.npm_execpath?.endsWith("npm-cli.js")) return process.env.npm_execpath;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, "npm"))) return realpathSync(join(dir, "npm"));
  }
  throw new Error("npm is not on PATH");
}

type LockEntry = { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };

/** The entries of the project's lock that `name` needs, found as Node.js resolves a package from where it is. */
function lockEntriesFor(name: string): Record<string, LockEntry> {
  const lock = JSON.parse(readFileSync(join(PROJECT_ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const needed: Record<string, LockEntry> = {};
  const visit = (path: string) => {
    if (needed[path]) return;
    needed[path] = lock.packages[path]!;
    const { dependencies = {}, optionalDependencies = {} } = needed[path];
    for (const dependency of Object.keys({ ...dependencies, ...optionalDependencies })) {
      // From <path>/node_modules/<dependency> up to node_modules/<dependency>.
      let from = path;
      for (;;) {
        const candidate = `${from}/node_modules/${dependency}`;
        if (lock.packages[candidate]) {
          visit(candidate);
          break;
        }
        const up = from.lastIndexOf("/node_modules/");
        if (up < 0) {
          if (lock.packages[`node_modules/${dependency}`]) visit(`node_modules/${dependency}`);
          break;
        }
        from = from.slice(0, up);
      }
    }
  };
  visit(`node_modules/${name}`);
  return needed;
}

describe("npm ci with the Functions host's download unreachable", () => {
  it("stays green and quick: the optional Core Tools are dropped", async () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as {
      optionalDependencies: Record<string, string>;
    };
    const version = pkg.optionalDependencies[PACKAGE];
    expect(version).toMatch(/^\^?4\./); // Core Tools 4 run the Functions runtime 4 that @azure/functions 4 targets
    const project = folder("teamops-core-tools-");
    const manifest = { name: "core-tools-install", private: true, optionalDependencies: { [PACKAGE]: version } };
    writeFileSync(join(project, "package.json"), JSON.stringify(manifest));
    const packages = { "": manifest, ...lockEntriesFor(PACKAGE) };
    writeFileSync(join(project, "package-lock.json"), JSON.stringify({ ...manifest, lockfileVersion: 3, packages }));

    const { stdout: registry } = await run("npm", ["config", "get", "registry"], { cwd: project });
    const refused = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    // npm on the Node.js 22 the project runs on: an older Node.js skips Core Tools (engines: node >= 22) untried.
    const args = ["ci", "--no-audit", "--no-fund", "--prefer-offline", "--foreground-scripts", "--loglevel=http"];
    const installed = run(process.execPath, [npmCli(), ...args], {
      cwd: project,
      env: {
        PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`,
        HOME: process.env.HOME ?? "",
        // The install script reads npm's proxy settings first; npm itself skips the proxy for its registry.
        npm_config_https_proxy: refused,
        npm_config_proxy: refused,
        npm_config_noproxy: new URL(registry.trim()).hostname,
      },
      // Not a speed goal: a hung download would otherwise hang the run.
      timeout: 240_000,
    });
    const { stdout, stderr } = await installed.catch((error: { killed?: boolean; stderr?: string }) => {
      if (error.killed) throw new Error(`npm ci hung: still running after ${(Date.now() - started) / 1000} s`);
      throw error;
    });
    // The host's download was tried, and failed.
    expect(`${stdout}${stderr}`, `${stdout}${stderr}`).toContain("attempting to GET");
    expect(existsSync(join(project, "node_modules", PACKAGE))).toBe(false);
  }, 300_000);
});

describe("npm run start:func", () => {
  it("runs the project's own Core Tools when npm installed them, with the arguments given", async () => {
    const project = folder("teamops-own-func-");
    cpSync(join(PROJECT_ROOT, "scripts"), join(project, "scripts"), { recursive: true });
    cpSync(join(PROJECT_ROOT, "package.json"), join(project, "package.json"));
    const host = join(project, "node_modules", PACKAGE, "bin");
    mkdirSync(host, { recursive: true });
    writeFileSync(join(host, "func"), '#!/bin/sh\necho "the project\'s func: $*"\n');
    chmodSync(join(host, "func"), 0o755);
    // Another func on PATH comes second.
    const elsewhere = folder("teamops-path-func-");
    writeFileSync(join(elsewhere, "func"), '#!/bin/sh\necho "another func"\n');
    chmodSync(join(elsewhere, "func"), 0o755);

    expect(findFunc(project, elsewhere)).toBe(join(host, "func"));
    const { stdout } = await run(process.execPath, ["scripts/start-func.js", "--port", "7999"], {
      cwd: project,
      env: { PATH: `${elsewhere}:${process.env.PATH ?? ""}` },
    });
    expect(stdout).toBe("the project's func: start --port 7999\n");
  });

  it("runs the func on PATH when the project has none", () => {
    const elsewhere = folder("teamops-path-func-");
    writeFileSync(join(elsewhere, "func"), "#!/bin/sh\n");
    chmodSync(join(elsewhere, "func"), 0o755);
    expect(findFunc(folder("teamops-no-func-"), elsewhere)).toBe(join(elsewhere, "func"));
  });

  it("says exactly what to install when there is no func at all", () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as {
      optionalDependencies: Record<string, string>;
    };
    const project = folder("teamops-no-func-");
    cpSync(join(PROJECT_ROOT, "package.json"), join(project, "package.json"));
    expect(() => findFunc(project, "/nonexistent")).toThrow(
      `install them yourself so that func is on PATH: npm install --global ${PACKAGE}@${pkg.optionalDependencies[PACKAGE]}`,
    );
  });
});
