/**
 * What a deployment of the compiled template creates, for the tests that evaluate it per mode: the parameters azd
 * passes through infra/main.parameters.json for an environment, and ways to find what the evaluation deployed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "vitest";
import type { ArmTemplate, BicepCli, RunResult } from "./bicep.js";
import { INFRA, bicep } from "./bicep.js";
import type { Deployed } from "./armEvaluator.js";
import { ENVIRONMENT, azdParameters, deployed } from "./armEvaluator.js";

/** The object id azd fills AZURE_PRINCIPAL_ID with in these tests. */
export const DEPLOYER = "11111111-2222-3333-4444-555555555555";

export const parameterFile = () =>
  JSON.parse(readFileSync(path.join(INFRA, "main.parameters.json"), "utf8")) as {
    parameters: Record<string, { value: unknown }>;
  };

/** What azd passes in an environment where these variables are set (AZURE_PRINCIPAL_ID is always set by azd). */
export function azdEnvironment(main: ArmTemplate, env: Record<string, string> = {}): Record<string, unknown> {
  return azdParameters(parameterFile(), main, {
    AZURE_ENV_NAME: "teamops-dev",
    AZURE_LOCATION: "swedencentral",
    AZURE_PRINCIPAL_ID: DEPLOYER,
    AUTH_AUDIENCES: "api://team-operations",
    ...env,
  });
}

/** Everything a deployment from an azd environment with these variables creates. */
export function deployFrom(main: ArmTemplate, env: Record<string, string> = {}): Deployed[] {
  return deployed(main, azdEnvironment(main, env));
}

export const ofType = (all: Deployed[], type: string) => all.filter((d) => d.type.toLowerCase() === type.toLowerCase());

export function one(all: Deployed[], type: string): Deployed {
  const found = ofType(all, type);
  expect(found, `exactly one ${type}`).toHaveLength(1);
  return found[0]!;
}

export const moduleNamed = (all: Deployed[], name: string) =>
  all.filter((d) => d.type === "Microsoft.Resources/deployments" && d.name === name);

/** The resource id Resource Manager gives a deployed resource (for the types these tests look at). */
export function idOf(d: Deployed): string {
  const rg = String(d.scope.resourceGroup);
  const segments = d.type.split("/");
  const names = String(d.name).split("/");
  const path = segments
    .slice(1)
    .map((t, i) => `${t}/${names[i]}`)
    .join("/");
  return `/subscriptions/${ENVIRONMENT.subscriptionId}/resourceGroups/${rg}/providers/${segments[0]}/${path}`;
}

/**
 * Compiles a .bicepparam file for infra/main.bicep with the required parameters and these (Bicep literals, as
 * `"'24'"` or `"true"`): what Bicep itself refuses before anything is sent to Azure.
 */
export function buildParameters(cli: BicepCli, values: Record<string, string>): RunResult {
  const dir = mkdtempSync(path.join(tmpdir(), "teamops-params-"));
  try {
    const file = path.join(dir, "main.bicepparam");
    const given: Record<string, string> = {
      environmentName: "'teamops-dev'",
      location: "'swedencentral'",
      authAudiences: "'api://team-operations'",
      ...values,
    };
    writeFileSync(
      file,
      [
        `using '${path.relative(dir, path.join(INFRA, "main.bicep")).replaceAll("\\", "/")}'`,
        ...Object.entries(given).map(([name, value]) => `param ${name} = ${value}`),
        "",
      ].join("\n"),
    );
    return bicep(cli, ["build-params", file, "--stdout"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
