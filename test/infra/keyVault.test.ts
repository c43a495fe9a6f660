/**
 * The key that signs the validation tokens of notifications with resource data, on the compiled ARM as azd
 * deploys it: a vault with Azure RBAC only, purge protection and audit logs; a non-exportable RSA signing key that
 * Key Vault rotates; one role, Key Vault Crypto User, on that key, to the app's identity; and the app told the
 * key's versionless id. Needs the Bicep CLI (see template.test.ts).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ArmTemplate } from "./bicep.js";
import { INFRA, buildMain, findBicep } from "./bicep.js";
import { Runtime, azdParameters, deployed, type Deployed } from "./armEvaluator.js";
import { setUpOrFailEach } from "../support/setUpOrFail.js";

const KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424";

let main: ArmTemplate;
let all: Deployed[];
setUpOrFailEach(async () => {
  main = await buildMain(findBicep());
  const file = JSON.parse(readFileSync(path.join(INFRA, "main.parameters.json"), "utf8")) as {
    parameters: Record<string, { value: unknown }>;
  };
  all = deployed(
    main,
    azdParameters(file, main, {
      AZURE_ENV_NAME: "teamops-dev",
      AZURE_LOCATION: "swedencentral",
      AZURE_PRINCIPAL_ID: "11111111-2222-3333-4444-555555555555",
      AUTH_AUDIENCES: "api://team-operations",
      GRANT_DEPLOYER_DATA_ACCESS: "true",
    }),
  );
});

function one(type: string): Deployed {
  const found = all.filter((d) => d.type.toLowerCase() === type.toLowerCase());
  expect(found, `exactly one ${type}`).toHaveLength(1);
  return found[0]!;
}

const identityPrincipal = (p: unknown) => p instanceof Runtime && /reference\('identity'\)/.test(p.text);

describe("the notification signing key's vault", () => {
  it("authorizes with Azure RBAC only, keeps deleted keys, and cannot be purged", () => {
    const vault = one("Microsoft.KeyVault/vaults").properties();
    expect(vault).toMatchObject({
      enableRbacAuthorization: true,
      accessPolicies: [],
      enableSoftDelete: true,
      softDeleteRetentionInDays: 90,
      enablePurgeProtection: true,
      enabledForDeployment: false,
      enabledForTemplateDeployment: false,
      enabledForDiskEncryption: false,
    });
  });

  it("sends its audit log and metrics to the Log Analytics workspace", () => {
    const settings = all.filter(
      (d) => d.type === "Microsoft.Insights/diagnosticSettings" && d.path.join("/") === "key-vault",
    );
    expect(settings).toHaveLength(1);
    const p = settings[0]!.properties();
    expect(p.logs).toEqual([{ categoryGroup: "audit", enabled: true }]);
    expect(p.metrics).toEqual([{ category: "AllMetrics", enabled: true }]);
    expect(p.workspaceId).toBe(
      `/subscriptions/00000000-0000-0000-0000-00000000aaaa/resourceGroups/rg-teamops-dev/providers/Microsoft.OperationalInsights/workspaces/${String(one("Microsoft.OperationalInsights/workspaces").name)}`,
    );
  });

  it("holds an RSA key that only signs and verifies, never leaves the vault, and is rotated", () => {
    const key = one("Microsoft.KeyVault/vaults/keys").properties();
    expect(key.kty).toBe("RSA");
    expect(key.keySize).toBeGreaterThanOrEqual(2048);
    expect(key.keyOps).toEqual(["sign", "verify"]);
    expect(key.attributes).toMatchObject({ enabled: true, exportable: false });
    expect(key.rotationPolicy.lifetimeActions).toEqual([
      { trigger: { timeAfterCreate: "P90D" }, action: { type: "rotate" } },
    ]);
  });

  it("lets the app's identity, and no one else, use that one key: Key Vault Crypto User on the key", () => {
    const roles = all.filter(
      (d) => d.type === "Microsoft.Authorization/roleAssignments" && d.path.includes("key-vault"),
    );
    expect(roles).toHaveLength(1);
    const role = roles[0]!;
    const p = role.properties();
    expect(String(p.roleDefinitionId).split("/").at(-1)).toBe(KEY_VAULT_CRYPTO_USER);
    expect(identityPrincipal(p.principalId)).toBe(true);
    expect(p.principalType).toBe("ServicePrincipal");
    expect(String(role.value("scope"))).toMatch(
      /\/providers\/Microsoft\.KeyVault\/vaults\/kv-[a-z0-9]+\/keys\/notification-signing$/,
    );
    // Nobody else holds a Key Vault role: not the deployer (grantDeployerDataAccess is on here), not at the vault.
    const vaultRoles = all.filter(
      (d) =>
        d.type === "Microsoft.Authorization/roleAssignments" &&
        String(d.properties().roleDefinitionId).split("/").at(-1) === KEY_VAULT_CRYPTO_USER,
    );
    expect(vaultRoles).toEqual([role]);
  });

  it("is what the app signs with: NOTIFICATION_SIGNING_KEY_ID is the key's versionless id", () => {
    const site = all.find((d) => d.type === "Microsoft.Resources/deployments" && d.name === "function-app")!;
    const settings = (site.resource.properties!.parameters as Record<string, { value: Record<string, string> }>)
      .appSettings!.value;
    expect(settings.NOTIFICATION_SIGNING_KEY_ID).toBe("[reference('keyVault').outputs.keyId.value]");
    const module = all.find((d) => d.type === "Microsoft.Resources/deployments" && d.name === "key-vault")!;
    const outputs = (module.resource.properties!.template as ArmTemplate).outputs!;
    // keyUri is the key's id without a version (keyUriWithVersion names one).
    expect(outputs.keyId!.value).toBe("[reference('key').keyUri]");
  });
});
