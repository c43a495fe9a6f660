/**
 * The infrastructure, checked on what Azure would receive: infra/main.bicep is
 * compiled once to ARM JSON and every security property, role assignment and app
 * setting is asserted on that JSON. Needs the Bicep CLI: without one these tests
 * fail and say how to get it (they never skip).
 */
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SETTINGS } from "../../shared/config.js";
import { OPERATIONS_INDEXING_POLICY } from "../../shared/store/indexingPolicy.js";
import type { ArmTemplate, BicepCli, Json, Placed } from "./bicep.js";
import {
  INFRA,
  bicep,
  compiledMain,
  diagnostics,
  findBicep,
  passedParameter,
  resolve,
  templates,
  walk,
} from "./bicep.js";
import { setUpOrFailEach } from "../support/setUpOrFail.js";

const ROLE = {
  storageBlobDataOwner: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
  storageQueueDataContributor: "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
  monitoringMetricsPublisher: "3913510d-42f4-4e42-8a64-420c390055eb",
  cosmosDataContributor: "00000000-0000-0000-0000-000000000002",
};

/** What no output or app setting may contain: keys, key-bearing connection strings, SAS. */
const SECRET =
  /list(Keys|ConnectionStrings|AccountSas|ServiceSas|Secrets|Credentials?)\(|AccountKey|InstrumentationKey|SharedAccessKey|SharedAccessSignature|primaryMasterKey|primaryKey|masterKey/i;

let cli: BicepCli;
let main: ArmTemplate;
let buildOutput: string;
let all: Placed[];

/** The top-level template, as a place to resolve expressions in. */
function top(): { template: ArmTemplate; deployment: undefined } {
  return { template: main, deployment: undefined };
}

setUpOrFailEach(async () => {
  await build();
});

async function build(): Promise<void> {
  cli = findBicep();
  console.info(`Bicep CLI: ${cli.path} (${cli.version}; from ${cli.source})`);
  const compiled = await compiledMain(cli);
  buildOutput = compiled.output;
  if (!compiled.template) throw new Error(`bicep build failed:\n${compiled.output}`);
  main = compiled.template;
  all = walk(main);
}

function ofType(type: string): Placed[] {
  return all.filter((p) => p.resource.type.toLowerCase() === type.toLowerCase() && !p.resource.existing);
}

function one(type: string): Placed {
  const found = ofType(type);
  expect(found, `exactly one ${type}`).toHaveLength(1);
  return found[0]!;
}

function module(name: string): Placed {
  const found = all.filter((p) => p.resource.type === "Microsoft.Resources/deployments" && p.resource.name === name);
  expect(found, `module deployment '${name}'`).toHaveLength(1);
  return found[0]!;
}

/** The parameters a module deployment is given by its parent. */
function params(deployment: Placed): Record<string, Json> {
  const passed = (deployment.resource.properties?.parameters ?? {}) as Record<string, { value: Json }>;
  return Object.fromEntries(Object.entries(passed).map(([k, v]) => [k, v.value]));
}

function bicepFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? bicepFiles(path.join(dir, entry.name))
      : entry.name.endsWith(".bicep")
        ? [path.join(dir, entry.name)]
        : [],
  );
}

describe("bicep build and lint", () => {
  it("builds infra/main.bicep with no warning or error", () => {
    expect(diagnostics(buildOutput)).toEqual([]);
  });

  it("lints every .bicep file under infra/ with no warning or error (warnings fail CI)", () => {
    const files = bicepFiles(INFRA);
    expect(files.length).toBeGreaterThanOrEqual(9);
    const result = bicep(cli, ["lint", "--pattern", "infra/**/*.bicep"]);
    expect(diagnostics(result.output), result.output).toEqual([]);
    expect(result.status, result.output).toBe(0);
  }, 120_000);

  it("the lint really lints, with infra/bicepconfig.json's rules", () => {
    // Guards the check above against a CLI, pattern or config that silently checks nothing:
    // use-user-defined-types is off unless bicepconfig.json turns it on.
    const dir = mkdtempSync(path.join(tmpdir(), "teamops-lint-probe-"));
    try {
      copyFileSync(path.join(INFRA, "bicepconfig.json"), path.join(dir, "bicepconfig.json"));
      writeFileSync(
        path.join(dir, "probe.bicep"),
        "@description('A loosely typed setting.')\nparam settings object\n\noutput echoed object = settings\n",
      );
      const result = bicep(cli, ["lint", path.join(dir, "probe.bicep")]);
      expect(diagnostics(result.output).join("\n")).toMatch(/use-user-defined-types/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("house style", () => {
  it("every parameter and output of every template has a description", () => {
    for (const { template, deployment } of templates(main)) {
      const where = deployment?.resource.name ?? "main";
      for (const [name, p] of Object.entries(template.parameters ?? {})) {
        expect(p.metadata?.description, `${where}: parameter ${name}`).toBeTruthy();
      }
      for (const [name, o] of Object.entries(template.outputs ?? {})) {
        expect(o.metadata?.description, `${where}: output ${name}`).toBeTruthy();
      }
    }
  });

  it("main.bicep's outputs are UPPER_SNAKE (azd writes them to the environment)", () => {
    const names = Object.keys(main.outputs ?? {});
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it("is subscription-scoped, creates the resource group and tags it for azd", () => {
    expect((main as Json).$schema).toMatch(/subscriptionDeploymentTemplate/);
    const rg = one("Microsoft.Resources/resourceGroups");
    expect(resolve(rg.resource.tags, rg)).toMatchObject({ "azd-env-name": "[parameters('environmentName')]" });
    expect(main.variables?.resourceToken).toBe(
      "[toLower(uniqueString(subscription().id, parameters('environmentName'), parameters('location')))]",
    );
  });

  it("azd's parameter file names only parameters main.bicep declares", () => {
    const file = JSON.parse(readFileSync(path.join(INFRA, "main.parameters.json"), "utf8")) as {
      parameters: Record<string, { value: unknown }>;
    };
    const declared = Object.keys(main.parameters ?? {});
    for (const name of Object.keys(file.parameters)) expect(declared).toContain(name);
    for (const [name, p] of Object.entries(main.parameters ?? {})) {
      if (p.defaultValue === undefined)
        expect(Object.keys(file.parameters), `required parameter ${name}`).toContain(name);
    }
  });
});

describe("security properties", () => {
  it("Cosmos DB: local (key) auth off, TLS 1.2, serverless by default", () => {
    const account = one("Microsoft.DocumentDB/databaseAccounts");
    const p = account.resource.properties;
    expect(p.disableLocalAuth).toBe(true);
    expect(p.disableKeyBasedMetadataWriteAccess).toBe(true);
    expect(p.minimalTlsVersion).toBe("Tls12");
    expect(JSON.stringify(p.capabilities)).toContain("EnableServerless");
    expect(main.parameters?.cosmosCapacityMode?.defaultValue).toBe("Serverless");
  });

  it("Application Insights is workspace-based with local auth off; so is the workspace", () => {
    const appInsights = one("Microsoft.Insights/components");
    expect(appInsights.resource.properties.DisableLocalAuth).toBe(true);
    expect(appInsights.resource.properties.WorkspaceResourceId).toBeTruthy();
    const workspace = one("Microsoft.OperationalInsights/workspaces");
    expect(workspace.resource.properties.features.disableLocalAuth).toBe(true);
  });

  it("storage: shared keys off, TLS 1.2, HTTPS only, no public blob access", () => {
    const account = one("Microsoft.Storage/storageAccounts");
    const p = account.resource.properties;
    expect(p.allowSharedKeyAccess).toBe(false);
    expect(p.minimumTlsVersion).toBe("TLS1_2");
    expect(p.supportsHttpsTrafficOnly).toBe(true);
    expect(p.allowBlobPublicAccess).toBe(false);
    for (const container of ofType("Microsoft.Storage/storageAccounts/blobServices/containers")) {
      expect(container.resource.properties.publicAccess).toBe("None");
    }
  });

  it("function app: HTTPS only, TLS 1.2, SCM basic publishing credentials off", () => {
    const site = one("Microsoft.Web/sites");
    const p = site.resource.properties;
    expect(p.httpsOnly).toBe(true);
    expect(p.siteConfig.minTlsVersion).toBe("1.2");
    expect(p.siteConfig.scmMinTlsVersion).toBe("1.2");
    const policies = ofType("Microsoft.Web/sites/basicPublishingCredentialsPolicies");
    expect(policies.map((x) => x.resource.name)).toEqual(["[format('{0}/{1}', parameters('name'), 'scm')]"]);
    for (const policy of policies) expect(policy.resource.properties.allow).toBe(false);
  });

  it("function app: nothing Flex Consumption deprecates or refuses, FTP and FTPS settings included", () => {
    // "Flex Consumption plan deprecations" (Azure Functions app settings reference): site properties and app
    // settings that Flex Consumption does not support or that functionAppConfig replaces.
    const deprecatedSiteProperties = [
      "alwaysOn",
      "containerSize",
      "ftpsState",
      "isReserved",
      "isXenon",
      "javaVersion",
      "linuxFxVersion",
      "netFrameworkVersion",
      "powerShellVersion",
      "functionAppScaleLimit",
      "preWarmedInstanceCount",
      "use32BitWorkerProcess",
      "vnetBackupRestoreEnabled",
      "vnetContentShareEnabled",
      "vnetImagePullEnabled",
      "vnetRouteAllEnabled",
      "windowsFxVersion",
    ].map((n) => n.toLowerCase());
    const site = one("Microsoft.Web/sites").resource.properties;
    const keys = (o: Json): string[] =>
      o && typeof o === "object" && !Array.isArray(o) ? Object.keys(o).flatMap((k) => [k, ...keys(o[k])]) : [];
    for (const key of [...keys(site), ...keys(site.siteConfig)]) {
      expect(deprecatedSiteProperties, `site property ${key}`).not.toContain(key.toLowerCase());
    }
    const deprecatedSettings = [
      "ENABLE_ORYX_BUILD",
      "FUNCTIONS_EXTENSION_VERSION",
      "FUNCTIONS_WORKER_RUNTIME",
      "FUNCTIONS_WORKER_RUNTIME_VERSION",
      "FUNCTIONS_MAX_HTTP_CONCURRENCY",
      "FUNCTIONS_WORKER_PROCESS_COUNT",
      "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED",
      "SCM_DO_BUILD_DURING_DEPLOYMENT",
      "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
      "WEBSITE_CONTENTOVERVNET",
      "WEBSITE_CONTENTSHARE",
      "WEBSITE_DNS_SERVER",
      "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT",
      "WEBSITE_NODE_DEFAULT_VERSION",
      "WEBSITE_RUN_FROM_PACKAGE",
      "WEBSITE_SKIP_CONTENTSHARE_VALIDATION",
      "WEBSITE_VNET_ROUTE_ALL",
    ];
    const settings = Object.keys(params(module("function-app")).appSettings as Record<string, unknown>);
    for (const name of deprecatedSettings) expect(settings).not.toContain(name);
    // No FTP anywhere: no FTP publishing policy, no FTPS state.
    expect(JSON.stringify(main)).not.toMatch(/ftps|'ftp'/i);
  });

  it("no output of any template carries a secret", () => {
    for (const { template, deployment } of templates(main)) {
      for (const [name, output] of Object.entries(template.outputs ?? {})) {
        const text = JSON.stringify(output);
        expect(text, `${deployment?.resource.name ?? "main"}: output ${name}`).not.toMatch(SECRET);
        expect(text, `${deployment?.resource.name ?? "main"}: output ${name}`).not.toMatch(/ConnectionString/i);
        expect(output.type, `${name}`).not.toMatch(/secure/i);
      }
    }
  });

  it("nothing in the whole template asks for a key", () => {
    expect(JSON.stringify(main)).not.toMatch(SECRET);
  });
});

describe("Cosmos DB data layout", () => {
  function containers(): Placed[] {
    return ofType("Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers");
  }

  function operationsContainer(): Placed {
    const cosmos = module("cosmos");
    const wanted = resolve(params(cosmos).containerName, top());
    const found = containers().filter((c) => resolve(c.resource.properties.resource.id, c) === wanted);
    expect(found).toHaveLength(1);
    return found[0]!;
  }

  it("database and container are the ones the app's configuration defaults to", () => {
    const defaults = Object.fromEntries(SETTINGS.map((s) => [s.name, s.default]));
    const cosmos = module("cosmos");
    expect(resolve(params(cosmos).databaseName, top())).toBe(defaults.COSMOS_DATABASE);
    expect(resolve(params(cosmos).containerName, top())).toBe(defaults.COSMOS_CONTAINER);
  });

  it("operations are partitioned by /teamId (Hash), with per-document TTL enabled", () => {
    const container = operationsContainer().resource.properties.resource;
    expect(container.partitionKey.paths).toEqual(["/teamId"]);
    expect(container.partitionKey.kind).toBe("Hash");
    expect(container.defaultTtl).toBe(-1);
  });

  it("has the indexing policy of shared/store/operationsIndexingPolicy.json, which the embedded store also uses", () => {
    const placed = operationsContainer();
    const policy = resolve(placed.resource.properties.resource.indexingPolicy, placed);
    expect(policy).toEqual(OPERATIONS_INDEXING_POLICY);
    // What the policy must serve is checked query by query in test/infra/indexing.test.ts.
  });

  it("a subscriptions container, partitioned as delivery looks subscriptions up (/resourceKey), with TTL on", () => {
    const subscriptions = containers().filter((c) => resolve(c.resource.properties.resource.id, c) === "subscriptions");
    expect(subscriptions).toHaveLength(1);
    expect(subscriptions[0]!.resource.properties.resource.partitionKey.paths).toEqual(["/resourceKey"]);
    expect(subscriptions[0]!.resource.properties.resource.defaultTtl).toBe(-1);
  });

  it("a lease container (partition key /id) is there for the change-feed trigger", () => {
    const leases = containers().filter(
      (c) => c !== operationsContainer() && resolve(c.resource.properties.resource.id, c) !== "subscriptions",
    );
    expect(leases).toHaveLength(1);
    expect(resolve(leases[0]!.resource.properties.resource.id, leases[0]!)).toBe("leases");
    expect(leases[0]!.resource.properties.resource.partitionKey.paths).toEqual(["/id"]);
  });
});

describe("storage queues and function app", () => {
  it("creates the queues of the event-driven functions and the deployment container", () => {
    const storage = module("storage");
    const queueNames = (params(storage).queueNames as unknown[]).map((q) => resolve(q, top()));
    expect([...queueNames].sort()).toEqual([
      "operation-events",
      "operation-events-poison",
      "operations-inbox",
      "operations-inbox-poison",
      "subscription-deliveries",
      "subscription-deliveries-poison",
    ]);
    expect(ofType("Microsoft.Storage/storageAccounts/queueServices/queues")).toHaveLength(1); // one copy loop
    expect(ofType("Microsoft.Storage/storageAccounts/blobServices/containers")).toHaveLength(1);
  });

  it("runs Node.js 22 on Flex Consumption (FC1) as the user-assigned identity, tagged for azd", () => {
    const plan = one("Microsoft.Web/serverfarms");
    expect(plan.resource.sku).toMatchObject({ name: "FC1", tier: "FlexConsumption" });
    const site = one("Microsoft.Web/sites");
    const config = site.resource.properties.functionAppConfig;
    expect(config.runtime.name).toBe("node");
    expect(resolve(config.runtime.version, site)).toBe("22");
    expect(main.parameters?.nodeVersion?.defaultValue).toBe("22");
    expect(config.deployment.storage.authentication.type).toBe("UserAssignedIdentity");
    expect(site.resource.identity.type).toBe("UserAssigned");
    expect(passedParameter(site, "alwaysReadyInstances")).toBe("[parameters('alwaysReadyInstances')]");
    expect(main.parameters?.alwaysReadyInstances?.defaultValue).toBe(0);
    expect(String(site.resource.tags)).toContain("'azd-service-name', parameters('serviceName')");
    expect(resolve(params(module("function-app")).serviceName, top())).toBe("api");
  });
});

describe("role assignments (least privilege)", () => {
  const identityPrincipal = /^\[reference\('identity'\)\.outputs\.principalId\.value\]$/;

  function roleModule(name: string) {
    const deployment = module(name);
    const inner = all.filter((p) => p.deployment === deployment);
    return { deployment, inner, passed: params(deployment) };
  }

  /** The built-in role definition GUID an assignment names. */
  function roleIdOf(p: Placed): string | undefined {
    return /roleDefinitions', '([0-9a-f-]{36})'\)/.exec(String(p.resource.properties.roleDefinitionId))?.[1];
  }

  function azureRole(inner: Placed[], roleId: string): Placed {
    const found = inner.filter(
      (p) => p.resource.type === "Microsoft.Authorization/roleAssignments" && roleIdOf(p) === roleId,
    );
    expect(found, `role ${roleId}`).toHaveLength(1);
    return found[0]!;
  }

  for (const name of ["api-role-assignments", "developer-role-assignments"]) {
    it(`${name}: storage blob + queue, metrics publisher, Cosmos data contributor on the database, each on its resource`, () => {
      const { deployment, inner, passed } = roleModule(name);
      const storageName = params(module("storage")).name;
      const appInsightsName = params(module("monitoring")).applicationInsightsName;
      const cosmosName = params(module("cosmos")).name;
      // Scopes: the very resources the other modules create.
      expect(passed.storageAccountName).toBe(storageName);
      expect(passed.applicationInsightsName).toBe(appInsightsName);
      expect(passed.cosmosAccountName).toBe(cosmosName);
      expect(passed.cosmosDatabaseName).toBe(params(module("cosmos")).databaseName);

      const expectations: [string, string][] = [
        [
          ROLE.storageBlobDataOwner,
          "[resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName'))]",
        ],
        [
          ROLE.storageQueueDataContributor,
          "[resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName'))]",
        ],
        [
          ROLE.monitoringMetricsPublisher,
          "[resourceId('Microsoft.Insights/components', parameters('applicationInsightsName'))]",
        ],
      ];
      for (const [roleId, scope] of expectations) {
        const assignment = azureRole(inner, roleId);
        expect(assignment.resource.properties.roleDefinitionId).toBe(
          `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${roleId}')]`,
        );
        expect(assignment.resource.properties.principalId).toBe("[parameters('principalId')]");
        expect(assignment.resource.scope).toBe(scope);
        // guid(scope, principal id, role definition id): stable for the same three, new for a new principal.
        expect(assignment.resource.name).toBe(
          `[guid(${scope.slice(1, -1)}, parameters('principalId'), subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '${roleId}'))]`,
        );
      }
      const azureAssignments = inner.filter((p) => p.resource.type === "Microsoft.Authorization/roleAssignments");
      expect(azureAssignments).toHaveLength(3);

      const cosmos = inner.filter(
        (p) => p.resource.type === "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments",
      );
      expect(cosmos).toHaveLength(1);
      const sql = cosmos[0]!;
      const variables = sql.template.variables ?? {};
      expect(variables.cosmosDataContributorId).toBe(
        `[format('{0}/sqlRoleDefinitions/${ROLE.cosmosDataContributor}', resourceId('Microsoft.DocumentDB/databaseAccounts', parameters('cosmosAccountName')))]`,
      );
      expect(variables.cosmosDatabaseScope).toBe(
        "[format('{0}/dbs/{1}', resourceId('Microsoft.DocumentDB/databaseAccounts', parameters('cosmosAccountName')), parameters('cosmosDatabaseName'))]",
      );
      expect(sql.resource.properties.roleDefinitionId).toBe("[variables('cosmosDataContributorId')]");
      expect(sql.resource.properties.principalId).toBe("[parameters('principalId')]");
      expect(sql.resource.properties.scope).toBe("[variables('cosmosDatabaseScope')]");
      expect(sql.resource.name).toBe(
        "[format('{0}/{1}', parameters('cosmosAccountName'), guid(variables('cosmosDatabaseScope'), parameters('principalId'), variables('cosmosDataContributorId')))]",
      );
      expect(
        (sql.resource as { copy?: unknown }).copy,
        "one Cosmos SQL role assignment per module, no parallel loop",
      ).toBeUndefined();
      expect(deployment.resource.type).toBe("Microsoft.Resources/deployments");
    });
  }

  it("the app's roles go to its managed identity as a service principal", () => {
    const { passed } = roleModule("api-role-assignments");
    expect(passed.principalId).toMatch(identityPrincipal);
    expect(passed.principalType).toBe("ServicePrincipal");
  });

  it("the deploying principal's roles are opt-in (grantDeployerDataAccess, default false) and come after the app's", () => {
    const { deployment, passed } = roleModule("developer-role-assignments");
    expect(passed.principalId).toBe("[parameters('principalId')]");
    expect(main.parameters?.principalId?.defaultValue).toBe("");
    expect(main.parameters?.grantDeployerDataAccess?.defaultValue).toBe(false);
    expect(deployment.resource.condition).toBe(
      "[and(parameters('grantDeployerDataAccess'), not(empty(parameters('principalId'))))]",
    );
    // Cosmos DB takes one SQL role assignment write at a time per account.
    expect(deployment.resource.dependsOn).toContain("apiRoleAssignments");
    const cosmosWriters = all.filter(
      (p) =>
        p.resource.type === "Microsoft.Resources/deployments" &&
        all.some(
          (q) => q.deployment === p && q.resource.type === "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments",
        ),
    );
    expect(cosmosWriters.map((p) => p.resource.name).sort()).toEqual([
      "api-role-assignments",
      "developer-role-assignments",
    ]);
  });

  it("the function app waits for its identity's roles", () => {
    expect(module("function-app").resource.dependsOn).toContain("apiRoleAssignments");
  });
});

describe("app settings", () => {
  function appSettings(): Record<string, Json> {
    return params(module("function-app")).appSettings as Record<string, Json>;
  }

  it("the site's settings are the appSettings object main.bicep passes, and the worker's runtime options", () => {
    const site = one("Microsoft.Web/sites");
    const copy = site.resource.properties.siteConfig.copy as Json[];
    expect(copy).toHaveLength(1);
    expect(copy[0].name).toBe("appSettings");
    // With the worker's runtime options (see modes.test.ts): nothing the app reads.
    expect(copy[0].count).toBe("[length(items(union(parameters('appSettings'), variables('runtimeSettings'))))]");
    expect(site.resource.properties.siteConfig.appSettings).toBeUndefined();
  });

  it("are exactly the settings shared/config.ts reads (SETTINGS less localOnly)", () => {
    const expected = SETTINGS.filter((s) => !s.localOnly).map((s) => s.name);
    const provided = Object.keys(appSettings());
    expect([...provided].sort()).toEqual([...expected].sort());
  });

  it("never set a local-only setting (keys, local signing keys)", () => {
    for (const s of SETTINGS.filter((x) => x.localOnly)) expect(Object.keys(appSettings())).not.toContain(s.name);
  });

  it("are identity-based: no keys, no secrets", () => {
    const settings = appSettings();
    for (const [name, value] of Object.entries(settings)) {
      expect(JSON.stringify(value), name).not.toMatch(SECRET);
    }
    expect(settings.AzureWebJobsStorage__credential).toBe("managedidentity");
    expect(settings.COSMOS__credential).toBe("managedidentity");
    expect(Object.keys(settings).some((n) => n === "AzureWebJobsStorage")).toBe(false);
    const clientId = "[reference('identity').outputs.clientId.value]";
    expect(settings.AzureWebJobsStorage__clientId).toBe(clientId);
    expect(settings.AZURE_CLIENT_ID).toBe(clientId);
    expect(settings.COSMOS__clientId).toBe(clientId);
    expect(settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toBe(
      "[format('ClientId={0};Authorization=AAD', reference('identity').outputs.clientId.value)]",
    );
    // Read from the component at deployment time; never passed through an output.
    expect(settings.APPLICATIONINSIGHTS_CONNECTION_STRING).toBe("[reference('applicationInsights').ConnectionString]");
  });

  it("a setting deployed as a constant, or from a parameter's default, has the app's default value", () => {
    const settings = appSettings();
    for (const spec of SETTINGS.filter((x) => x.default !== undefined && !x.localOnly)) {
      const value = resolve(settings[spec.name], top());
      if (typeof value !== "string") continue;
      const fromParameter = /^\[(?:string\()?parameters\('([^']+)'\)\)?\]$/.exec(value);
      if (fromParameter) {
        const parameterDefault = main.parameters?.[fromParameter[1]!]?.defaultValue;
        expect(String(parameterDefault), `${spec.name}: default of parameter ${fromParameter[1]}`).toBe(spec.default);
      } else if (!value.startsWith("[")) {
        expect(value, spec.name).toBe(spec.default);
      }
    }
  });

  it("defaults agree with the app's own defaults", () => {
    const defaults = Object.fromEntries(SETTINGS.map((s) => [s.name, s.default]));
    expect(String(main.parameters?.operationTtlDays?.defaultValue)).toBe(defaults.OPERATION_TTL_DAYS);
    expect(String(main.parameters?.retryAfterSeconds?.defaultValue)).toBe(defaults.RETRY_AFTER_SECONDS);
    expect(main.parameters?.publicBaseUrl?.defaultValue).toBe(defaults.PUBLIC_BASE_URL ?? "");
    // The JWKS URI is built from the cloud's login endpoint; in the public cloud it is the app's default.
    expect(appSettings().AUTH_JWKS_URI).toBe(
      "[format('{0}common/discovery/v2.0/keys', environment().authentication.loginEndpoint)]",
    );
    expect(`https://login.microsoftonline.com/common/discovery/v2.0/keys`).toBe(defaults.AUTH_JWKS_URI);
  });
});
