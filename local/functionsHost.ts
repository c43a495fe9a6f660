/**
 * A stand-in for the Azure Functions host's Node.js worker, just enough to
 * load the app exactly as the host does and call its handlers.
 *
 * `@azure/functions` registers functions through the `@azure/functions-core`
 * module that the real worker provides. We provide that module, load the
 * files named by package.json `main` (the same glob the host uses), and keep
 * every `registerFunction` call: the local runner and the tests then see the
 * very metadata (routes, methods, authLevel) and handlers the host would.
 */
import { readdirSync, readFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

export interface BindingMetadata {
  readonly type: string;
  readonly direction: "in" | "out";
  readonly name: string;
  readonly [key: string]: unknown;
}

export interface RegisteredFunction {
  readonly name: string;
  readonly bindings: Readonly<Record<string, BindingMetadata>>;
  readonly trigger: BindingMetadata;
  readonly handler: (...args: unknown[]) => unknown;
}

const CORE_MODULE = "@azure/functions-core";
const SHIM_ID = "\0team-operations:functions-core-shim";
const registrations: RegisteredFunction[] = [];
type HookCallback = (context: { hookData: Record<string, unknown> }) => unknown;
const hooks = new Map<string, HookCallback[]>();
let installed = false;

function installCoreShim(): void {
  if (installed) return;
  installed = true;
  const core = {
    version: "local-runner",
    hostVersion: "local-runner",
    setProgrammingModel: () => undefined,
    getProgrammingModel: () => undefined,
    registerHook(name: string, callback: HookCallback) {
      const list = hooks.get(name) ?? [];
      list.push(callback);
      hooks.set(name, list);
      return {
        dispose: () => {
          const at = list.indexOf(callback);
          if (at >= 0) list.splice(at, 1);
        },
      };
    },
    log: () => undefined,
    registerFunction(
      metadata: { name: string; bindings: Record<string, BindingMetadata> },
      handler: RegisteredFunction["handler"],
    ) {
      const bindings = Object.fromEntries(
        Object.entries(metadata.bindings).map(([name, binding]) => [name, { ...binding, name }]),
      );
      const trigger = Object.values(bindings).find((b) => /trigger$/i.test(b.type));
      if (!trigger) throw new Error(`Function ${metadata.name} has no trigger.`);
      registrations.push({ name: metadata.name, bindings, trigger, handler });
      return { dispose: () => undefined };
    },
  };
  const shim = new Module(SHIM_ID);
  shim.exports = core;
  shim.loaded = true;
  const require = createRequire(import.meta.url);
  require.cache[SHIM_ID] = shim;
  const loader = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const resolve = loader._resolveFilename;
  loader._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === CORE_MODULE ? SHIM_ID : resolve.call(this, request, ...rest);
  };
}

/** Expands the small glob language package.json `main` uses: `{a,b}` and `*` in file names. */
export function expandMainGlob(root: string, pattern: string): string[] {
  const brace = /\{([^{}]*)\}/.exec(pattern);
  if (brace) {
    return brace[1]!.split(",").flatMap((alt) => expandMainGlob(root, pattern.replace(brace[0], alt)));
  }
  if (!pattern.includes("*")) return [join(root, pattern)];
  const dir = dirname(pattern);
  const base = pattern.slice(dir.length + 1);
  const matcher = new RegExp(`^${base.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
  let entries: string[] = [];
  try {
    entries = readdirSync(join(root, dir));
  } catch {
    return [];
  }
  return entries
    .filter((entry) => matcher.test(entry))
    .sort()
    .map((entry) => join(root, dir, entry));
}

/** Loads the app as the Functions host does and returns what it registered. */
export async function loadFunctionApp(projectRoot: string): Promise<readonly RegisteredFunction[]> {
  installCoreShim();
  if (registrations.length > 0) return registrations;
  const pkg = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { main: string };
  const files = expandMainGlob(projectRoot, pkg.main);
  if (files.length === 0) throw new Error(`package.json main (${pkg.main}) matched no files: run npm run build.`);
  for (const file of files) await import(pathToFileURL(file).href);
  if (registrations.length === 0) throw new Error("No job functions found.");
  return registrations;
}

/** Runs the app's `app.hook.appTerminate` handlers, as the host does on a graceful shutdown. */
export async function runAppTerminateHooks(): Promise<void> {
  for (const hook of hooks.get("appTerminate") ?? []) await hook({ hookData: {} });
}

/** The host's route prefix, from host.json. */
export function routePrefix(projectRoot: string): string {
  const host = JSON.parse(readFileSync(join(projectRoot, "host.json"), "utf8")) as {
    extensions?: { http?: { routePrefix?: string } };
  };
  return host.extensions?.http?.routePrefix ?? "api";
}
