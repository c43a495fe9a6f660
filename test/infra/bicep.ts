/**
 * Helpers for the infrastructure tests: find a Bicep CLI (tools/bicep/find.sh), run it, compile infra/main.bicep
 * once per test run, and walk the ARM JSON it compiles (modules become nested Microsoft.Resources/deployments).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { inject } from "vitest";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const INFRA = path.join(ROOT, "infra");

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

/**
 * Finds a working Bicep CLI as `tools/bicep/find.sh` does, which it runs: BICEP_PATH, the copy restored into
 * .tools/, `bicep` on PATH, the Azure CLI's copy, then a restore from NuGet when `dotnet` is there. Throws (never
 * skips) with its instructions when there is none.
 */
export function findBicep(): BicepCli {
  const found = run("bash", [path.join(ROOT, "tools/bicep/find.sh")], 300_000);
  const candidate = found.status === 0 ? found.stdout.trim().split("\n").at(-1)! : "";
  const version = candidate ? run(candidate, ["--version"], 60_000) : undefined;
  if (!version || version.status !== 0) {
    throw new Error(
      `The infrastructure tests (test/infra) need the Bicep CLI to compile and lint infra/*.bicep, and tools/bicep/find.sh found none:\n${found.output}`,
    );
  }
  return { path: candidate, source: "tools/bicep/find.sh", version: version.stdout.trim() };
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
  /** A parameter of a user-defined type: `#/definitions/<name>`. */
  readonly $ref?: string;
  readonly allowedValues?: readonly unknown[];
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
  /** The user-defined types (languageVersion 2.0). */
  readonly definitions?: Record<string, ArmParameter>;
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

export interface CompiledMain {
  /** The compiled ARM JSON; undefined when the build failed. */
  readonly template: ArmTemplate | undefined;
  readonly status: number | null;
  /** What the CLI printed (its diagnostics included). */
  readonly output: string;
}

function compile(cli: BicepCli, outFile: string): Omit<CompiledMain, "template"> {
  const result = bicep(cli, ["build", path.join(INFRA, "main.bicep"), "--outfile", outFile]);
  return { status: result.status, output: result.output };
}

/**
 * infra/main.bicep compiled to ARM JSON once per test run, by whichever infra test asks first; the others wait for
 * it and read the same JSON and CLI output, so a run (CI's included) compiles the template once. The run's folder
 * comes from the global setup (test/support/runFolder.ts). The build is published by renaming its folder, so a
 * reader never sees half of it.
 */
export async function compiledMain(cli: BicepCli): Promise<CompiledMain> {
  const published = path.join(inject("runFolder"), "bicep-main");
  const building = `${published}.building`;
  const read = (): CompiledMain => {
    const result = JSON.parse(readFileSync(path.join(published, "result.json"), "utf8")) as Omit<
      CompiledMain,
      "template"
    >;
    const template =
      result.status === 0
        ? (JSON.parse(readFileSync(path.join(published, "main.json"), "utf8")) as ArmTemplate)
        : undefined;
    return { ...result, template };
  };
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (existsSync(published)) return read();
    try {
      mkdirSync(building);
    } catch {
      // Another test file is compiling it.
      if (Date.now() > deadline) throw new Error(`infra/main.bicep was not compiled in time (${building}).`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    // Published between the look and the lock: the lock was free because the build is done.
    if (existsSync(published)) {
      rmdirSync(building);
      return read();
    }
    let result: Omit<CompiledMain, "template">;
    try {
      result = compile(cli, path.join(building, "main.json"));
    } catch (error) {
      result = { status: null, output: String(error) };
    }
    writeFileSync(path.join(building, "result.json"), JSON.stringify(result));
    renameSync(building, published);
    return read();
  }
}

/** The compiled template of infra/main.bicep (`compiledMain`); throws when it does not build. */
export async function buildMain(cli: BicepCli): Promise<ArmTemplate> {
  const { template, output } = await compiledMain(cli);
  if (!template) throw new Error(`bicep build failed:\n${output}`);
  return template;
}
