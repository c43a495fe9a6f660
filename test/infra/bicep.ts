/**
 * Helpers for the infrastructure tests: find a Bicep CLI, run it, and walk the
 * ARM JSON it compiles (modules become nested Microsoft.Resources/deployments).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const INFRA = path.join(ROOT, "infra");

const HOW_TO_GET_BICEP = [
  "The infrastructure tests (test/infra) need the Bicep CLI to compile and lint infra/*.bicep, and none was found.",
  "Get one of these, then run the tests again:",
  "  - the .NET SDK (dotnet): the tests then restore Bicep from NuGet by themselves (tools/bicep/restore.sh, into .tools/);",
  "  - the Azure CLI: az bicep install;",
  "  - a bicep binary on PATH, or BICEP_PATH=/path/to/bicep.",
].join("\n");

export interface BicepCli {
  readonly path: string;
  /** Where it was found, for the test log. */
  readonly source: string;
  readonly version: string;
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  /** stdout and stderr together (Bicep writes its diagnostics to stderr). */
  readonly output: string;
}

function run(command: string, args: readonly string[], timeoutMs = 120_000): RunResult {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: "utf8", timeout: timeoutMs });
  const stdout = result.stdout ?? "";
  const error = result.error ? `\n${result.error.message}` : "";
  return { status: result.status, stdout, output: `${stdout}${result.stderr ?? ""}${error}` };
}

function version(candidate: string): string | undefined {
  if (!candidate || !existsSync(candidate)) return undefined;
  const result = run(candidate, ["--version"], 60_000);
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function restoredCopies(): string[] {
  const base = path.join(ROOT, ".tools/nuget/azure.bicep.commandline.linux-x64");
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .sort()
    .reverse()
    .map((v) => path.join(base, v, "tools/bicep"));
}

/**
 * Finds a working Bicep CLI: BICEP_PATH, the copy restored into .tools/, `bicep`
 * on PATH, the Azure CLI's copy, then a restore from NuGet when `dotnet` is there.
 * Throws (never skips) with instructions when there is none.
 */
export function findBicep(): BicepCli {
  const fromEnv = process.env.BICEP_PATH;
  if (fromEnv) {
    const v = version(fromEnv);
    if (v) return { path: fromEnv, source: "BICEP_PATH", version: v };
    throw new Error(`BICEP_PATH is set to '${fromEnv}', which is not a working Bicep CLI.\n${HOW_TO_GET_BICEP}`);
  }
  for (const candidate of restoredCopies()) {
    const v = version(candidate);
    if (v) return { path: candidate, source: ".tools (tools/bicep/restore.sh)", version: v };
  }
  const bicepOnPath = onPath("bicep");
  if (bicepOnPath) {
    const v = version(bicepOnPath);
    if (v) return { path: bicepOnPath, source: "PATH", version: v };
  }
  if (onPath("az") && run("az", ["bicep", "version"]).status === 0) {
    const candidate = path.join(process.env.AZURE_CONFIG_DIR ?? path.join(homedir(), ".azure"), "bin", "bicep");
    const v = version(candidate);
    if (v) return { path: candidate, source: "az bicep", version: v };
  }
  if (onPath("dotnet")) {
    const restore = run("bash", [path.join(ROOT, "tools/bicep/restore.sh")], 300_000);
    const candidate = restore.stdout.trim().split("\n").at(-1) ?? "";
    const v = restore.status === 0 ? version(candidate) : undefined;
    if (v) return { path: candidate, source: "restored from NuGet just now (tools/bicep/restore.sh)", version: v };
    throw new Error(`tools/bicep/restore.sh could not restore the Bicep CLI:\n${restore.output}\n${HOW_TO_GET_BICEP}`);
  }
  throw new Error(HOW_TO_GET_BICEP);
}

export function bicep(cli: BicepCli, args: readonly string[]): RunResult {
  return run(cli.path, args);
}

/** Diagnostic lines ("file(line,col) : Warning rule: message") in Bicep CLI output. */
export function diagnostics(output: string): string[] {
  return output.split(/\r?\n/).filter((line) => /\(\d+,\d+\) : (Error|Warning|Info) /.test(line));
}

// ---------------------------------------------------------------------------
// ARM JSON

/** Compiled ARM JSON is untyped data; the tests assert on its shape. */
export type Json = any;

export interface ArmParameter {
  readonly type?: string;
  readonly defaultValue?: unknown;
  readonly metadata?: { readonly description?: string };
}

export interface ArmOutput {
  readonly type?: string;
  readonly value?: unknown;
  readonly metadata?: { readonly description?: string };
}

export interface ArmResource {
  readonly type: string;
  readonly name: string;
  readonly apiVersion?: string;
  readonly condition?: unknown;
  readonly existing?: boolean;
  readonly scope?: string;
  readonly kind?: string;
  readonly sku?: Record<string, unknown>;
  readonly tags?: unknown;
  readonly identity?: Json;
  readonly dependsOn?: readonly string[];
  readonly properties?: Json;
}

export interface ArmTemplate {
  readonly parameters?: Record<string, ArmParameter>;
  readonly variables?: Record<string, unknown>;
  /** An array, or (languageVersion 2.0) an object keyed by symbolic name. */
  readonly resources: readonly ArmResource[] | Record<string, ArmResource>;
  readonly outputs?: Record<string, ArmOutput>;
}

/** One resource of the compiled template, wherever it is nested. */
export interface Placed {
  readonly resource: ArmResource;
  /** Its symbolic name (languageVersion 2.0), when it has one. */
  readonly symbol: string | undefined;
  /** The template that declares it. */
  readonly template: ArmTemplate;
  /** The deployment (module) whose template that is; undefined at the top. */
  readonly deployment: Placed | undefined;
  /** Names of the enclosing deployments, outermost first. */
  readonly path: readonly string[];
}

function entries(template: ArmTemplate): [string | undefined, ArmResource][] {
  return Array.isArray(template.resources)
    ? (template.resources as ArmResource[]).map((r) => [undefined, r])
    : Object.entries(template.resources);
}

/** Every resource of the template, modules' resources included, depth first. */
export function walk(template: ArmTemplate, deployment?: Placed, pathSoFar: readonly string[] = []): Placed[] {
  const found: Placed[] = [];
  for (const [symbol, resource] of entries(template)) {
    const placed: Placed = { resource, symbol, template, deployment, path: pathSoFar };
    found.push(placed);
    const nested = resource.properties?.template as ArmTemplate | undefined;
    if (resource.type === "Microsoft.Resources/deployments" && nested) {
      found.push(...walk(nested, placed, [...pathSoFar, resource.name]));
    }
  }
  return found;
}

/** Every template (the main one and each module's), with the deployment that holds it. */
export function templates(main: ArmTemplate): { template: ArmTemplate; deployment: Placed | undefined }[] {
  return [
    { template: main, deployment: undefined },
    ...walk(main)
      .filter((p) => p.resource.type === "Microsoft.Resources/deployments" && p.resource.properties?.template)
      .map((p) => ({ template: p.resource.properties!.template as ArmTemplate, deployment: p })),
  ];
}

/** The value a module's parent passes for one of its parameters (or its default). */
export function passedParameter(placed: Placed, name: string): unknown {
  const deployment = placed.deployment;
  const passed = deployment?.resource.properties?.parameters?.[name] as { value?: unknown } | undefined;
  if (passed && "value" in passed) return passed.value;
  return placed.template.parameters?.[name]?.defaultValue;
}

/**
 * Resolves the few expression forms that compile-time constants take:
 * [parameters('x')], [variables('x')] and [variables('x').y], following a
 * module's parameters up to what its parent passed. Anything else comes back as
 * the expression text.
 */
export function resolve(
  value: unknown,
  where: Placed | { template: ArmTemplate; deployment: Placed | undefined },
): unknown {
  if (typeof value !== "string") return value;
  const parameter = /^\[parameters\('([^']+)'\)\]$/.exec(value);
  if (parameter) {
    const name = parameter[1]!;
    const deployment = where.deployment;
    const passed = deployment?.resource.properties?.parameters?.[name] as { value?: unknown } | undefined;
    if (deployment && passed && "value" in passed) return resolve(passed.value, deployment);
    return where.template.parameters?.[name]?.defaultValue ?? value;
  }
  const variable = /^\[variables\('([^']+)'\)((?:\.[A-Za-z_]\w*)*)\]$/.exec(value);
  if (variable) {
    let current: unknown = where.template.variables?.[variable[1]!];
    for (const key of variable[2]!.split(".").filter(Boolean)) {
      current = (current as Record<string, unknown> | undefined)?.[key];
    }
    return current === undefined ? value : resolve(current, where);
  }
  return value;
}

/** Compiles infra/main.bicep to ARM JSON in a temporary folder; the CLI's output comes back too. */
export function buildMain(cli: BicepCli): { template: ArmTemplate; output: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "teamops-infra-"));
  try {
    const outFile = path.join(dir, "main.json");
    const result = bicep(cli, ["build", path.join(INFRA, "main.bicep"), "--outfile", outFile]);
    if (result.status !== 0) throw new Error(`bicep build failed:\n${result.output}`);
    return { template: JSON.parse(readFileSync(outFile, "utf8")) as ArmTemplate, output: result.output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
