/**
 * The deployment in each of its modes, on the compiled ARM: infra/main.bicep is
 * compiled once, then evaluated (test/infra/armEvaluator.ts) with the parameters
 * azd passes through infra/main.parameters.json for each combination of the
 * private-network mode (vnetEnabled) and the deployer's data access
 * (grantDeployerDataAccess), and what each deployment would create is asserted:
 * which resources, their scopes, the names of the role assignments, public
 * network access. Needs the Bicep CLI (see template.test.ts).
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { ArmTemplate, BicepCli, Json } from "./bicep.js";
import { buildMain, diagnostics, findBicep } from "./bicep.js";
import type { Deployed, Expr } from "./armEvaluator.js";
import { Runtime, deployed, evaluate, expressionOf, parseExpression } from "./armEvaluator.js";
import {
  DEPLOYER,
  azdEnvironment as azdEnvironmentOf,
  buildParameters,
  idOf,
  moduleNamed,
  ofType,
  one,
} from "./deployments.js";
import { setUpOrFailEach } from "../support/setUpOrFail.js";

const ROLE = {
  storageBlobDataOwner: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
  storageQueueDataContributor: "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
  monitoringMetricsPublisher: "3913510d-42f4-4e42-8a64-420c390055eb",
  cosmosDataContributor: "00000000-0000-0000-0000-000000000002",
  keyVaultCryptoUser: "12338af0-0e69-4776-bea7-57ae8d297424",
};
let cli: BicepCli;
let main: ArmTemplate;
setUpOrFailEach(async () => {
  cli = findBicep();
  main = await buildMain(cli);
});

/** What azd passes in an environment where these variables are set (AZURE_PRINCIPAL_ID is always set by azd). */
const azdEnvironment = (env: Record<string, string> = {}) => azdEnvironmentOf(main, env);

interface Mode {
  readonly vnet: boolean;
  readonly deployerAccess: boolean;
}

const MODES: Mode[] = [
  { vnet: false, deployerAccess: false },
  { vnet: false, deployerAccess: true },
  { vnet: true, deployerAccess: false },
  { vnet: true, deployerAccess: true },
];

const label = (m: Mode) => `vnetEnabled=${m.vnet}, grantDeployerDataAccess=${m.deployerAccess}`;

function deploy(mode: Mode): Deployed[] {
  return deployed(
    main,
    azdEnvironment({
      VNET_ENABLED: String(mode.vnet),
      GRANT_DEPLOYER_DATA_ACCESS: String(mode.deployerAccess),
    }),
  );
}

const sameExpr = (a: Expr | undefined, b: Expr | undefined) => JSON.stringify(a) === JSON.stringify(b);

describe("azd's parameter file", () => {
  it("by default deploys the public, least-privilege mode on Node.js 22, whatever azd fills in", () => {
    const values = azdEnvironment();
    expect(values.grantDeployerDataAccess).toBe(false);
    expect(values.vnetEnabled).toBe(false);
    expect(values.nodeVersion).toBe("22");
    expect(values.principalId).toBe(DEPLOYER);
  });

  it("turns each mode on from an environment variable", () => {
    const values = azdEnvironment({
      GRANT_DEPLOYER_DATA_ACCESS: "true",
      VNET_ENABLED: "true",
      FUNCTIONS_NODE_VERSION: "24",
    });
    expect(values).toMatchObject({ grantDeployerDataAccess: true, vnetEnabled: true, nodeVersion: "24" });
  });

  it("main.bicep's own defaults are the same", () => {
    expect(main.parameters?.grantDeployerDataAccess?.defaultValue).toBe(false);
    expect(main.parameters?.vnetEnabled?.defaultValue).toBe(false);
    expect(main.parameters?.nodeVersion?.defaultValue).toBe("22");
    expect(main.parameters?.grantDeployerDataAccess?.metadata?.description).toMatch(/development environments/);
  });
});

describe("Node.js runtime", () => {
  it("allows only 22 and 24 (a literal union on both main.bicep and the module)", () => {
    const definitions = (main as Json).definitions as Record<string, Json>;
    const ref = (main.parameters?.nodeVersion as Json).$ref as string;
    expect(definitions[ref.split("/").at(-1)!].allowedValues).toEqual(["22", "24"]);
    const app = moduleNamed(deploy(MODES[0]!), "function-app")[0]!;
    const template = app.resource.properties!.template;
    const moduleRef = template.parameters.nodeVersion.$ref as string;
    expect(template.definitions[moduleRef.split("/").at(-1)!].allowedValues).toEqual(["22", "24"]);
    expect(template.parameters.nodeVersion.defaultValue).toBe("22");
  });

  it.each([
    [undefined, "22"],
    ["24", "24"],
  ])("the function app runs node %s -> %s", (requested, expected) => {
    const all = deployed(main, azdEnvironment(requested ? { FUNCTIONS_NODE_VERSION: requested } : {}));
    const runtime = one(all, "Microsoft.Web/sites").properties().functionAppConfig.runtime;
    expect(runtime).toEqual({ name: "node", version: expected });
  });

  it.each([
    [undefined, { NODE_OPTIONS: "--experimental-async-context-frame" }],
    ["24", {}],
  ])("node %s: the worker's Node.js options (a flag Node.js 22 needs and 24 refuses)", (requested, expected) => {
    const all = deployed(main, azdEnvironment(requested ? { FUNCTIONS_NODE_VERSION: requested } : {}));
    const site = one(all, "Microsoft.Web/sites");
    expect(evaluate("[variables('runtimeSettings')]", site.scope)).toEqual(expected);
  });

  it("a parameter file asking for Node.js 20 does not compile; 24 does", () => {
    const refused = buildParameters(cli, { nodeVersion: "'20'" });
    expect(refused.status).not.toBe(0);
    expect(refused.output).toMatch(/Error BCP033: Expected a value of type "'22' \| '24'"/);
    const accepted = buildParameters(cli, { nodeVersion: "'24'" });
    expect(diagnostics(accepted.output).filter((l) => / : Error /.test(l))).toEqual([]);
    expect(accepted.status, accepted.output).toBe(0);
  }, 120_000);
});

describe.each(MODES)("deployment with %j", (mode) => {
  let all: Deployed[];
  beforeAll(() => {
    if (main) all = deploy(mode);
  });

  const principalOf = (d: Deployed) => d.properties().principalId as unknown;
  const identityPrincipal = (p: unknown) => p instanceof Runtime && /reference\('identity'\)/.test(p.text);

  it(`${label(mode)}: the deployer gets data-plane roles only when asked`, () => {
    const developer = moduleNamed(all, "developer-role-assignments");
    expect(developer).toHaveLength(mode.deployerAccess ? 1 : 0);
    const assignments = [
      ...ofType(all, "Microsoft.Authorization/roleAssignments"),
      ...ofType(all, "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments"),
    ];
    const toDeployer = assignments.filter((a) => principalOf(a) === DEPLOYER);
    const toApp = assignments.filter((a) => identityPrincipal(principalOf(a)));
    expect(toApp).toHaveLength(5);
    expect(toDeployer).toHaveLength(mode.deployerAccess ? 4 : 0);
    expect(toApp.length + toDeployer.length, "no one else gets a role").toBe(assignments.length);
    for (const a of toDeployer.filter((x) => x.type.endsWith("roleAssignments") && !x.type.includes("sql"))) {
      expect(a.properties().principalType).toBe("User");
    }
  });

  it(`${label(mode)}: each role is scoped to the one resource it is for; Cosmos DB's to the database`, () => {
    const storageId = idOf(one(all, "Microsoft.Storage/storageAccounts"));
    const insightsId = idOf(one(all, "Microsoft.Insights/components"));
    const account = one(all, "Microsoft.DocumentDB/databaseAccounts");
    const database = one(all, "Microsoft.DocumentDB/databaseAccounts/sqlDatabases");
    const roleScope: Record<string, string> = {
      [ROLE.storageBlobDataOwner]: storageId,
      [ROLE.storageQueueDataContributor]: storageId,
      [ROLE.monitoringMetricsPublisher]: insightsId,
      [ROLE.keyVaultCryptoUser]: idOf(one(all, "Microsoft.KeyVault/vaults/keys")),
    };
    for (const a of ofType(all, "Microsoft.Authorization/roleAssignments")) {
      const roleDefinitionId = String(a.properties().roleDefinitionId);
      const role = roleDefinitionId.split("/").at(-1)!;
      expect(roleDefinitionId).toBe(
        `/subscriptions/00000000-0000-0000-0000-00000000aaaa/providers/Microsoft.Authorization/roleDefinitions/${role}`,
      );
      expect(a.value("scope"), `scope of role ${role}`).toBe(roleScope[role]);
    }
    const databaseName = String(database.name).split("/").at(-1);
    for (const a of ofType(all, "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments")) {
      const p = a.properties();
      expect(p.scope).toBe(`${idOf(account)}/dbs/${databaseName}`);
      expect(p.roleDefinitionId).toBe(`${idOf(account)}/sqlRoleDefinitions/${ROLE.cosmosDataContributor}`);
    }
  });

  it(`${label(mode)}: every role assignment is named guid(scope, principalId, roleDefinitionId)`, () => {
    const principalParameter = parseExpression("[parameters('principalId')]");
    const azure = ofType(all, "Microsoft.Authorization/roleAssignments");
    const sql = ofType(all, "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments");
    expect(azure.length + sql.length).toBe(mode.deployerAccess ? 9 : 5);
    for (const a of azure) {
      const name = expressionOf(a.resource.name) as Extract<Expr, { kind: "call" }>;
      expect(name.name).toBe("guid");
      expect(sameExpr(name.args[0], expressionOf(a.resource.scope)), "guid's scope is the assignment's").toBe(true);
      expect(sameExpr(name.args[1], principalParameter)).toBe(true);
      expect(sameExpr(expressionOf(a.resource.properties!.principalId), principalParameter)).toBe(true);
      expect(sameExpr(name.args[2], expressionOf(a.resource.properties!.roleDefinitionId))).toBe(true);
    }
    for (const a of sql) {
      // Cosmos SQL role assignments are child resources: "<account>/<guid(...)>".
      const name = expressionOf(a.resource.name) as Extract<Expr, { kind: "call" }>;
      expect(name.name).toBe("format");
      const guid = name.args[2] as Extract<Expr, { kind: "call" }>;
      expect(guid.name).toBe("guid");
      expect(sameExpr(guid.args[0], expressionOf(a.resource.properties!.scope))).toBe(true);
      expect(sameExpr(guid.args[1], principalParameter)).toBe(true);
      expect(sameExpr(guid.args[2], expressionOf(a.resource.properties!.roleDefinitionId))).toBe(true);
    }
    // The principal id in the name is the principal's object id, never the identity's resource id.
    const names = [...azure, ...sql].map((a) => JSON.stringify(a.resource.name));
    for (const n of names) expect(n).not.toMatch(/userAssignedIdentities|principalKey/);
  });

  it(`${label(mode)}: public network access ${mode.vnet ? "off" : "on"} on storage, Cosmos DB and Key Vault`, () => {
    const storage = one(all, "Microsoft.Storage/storageAccounts").properties();
    const cosmos = one(all, "Microsoft.DocumentDB/databaseAccounts").properties();
    const vault = one(all, "Microsoft.KeyVault/vaults").properties();
    expect(vault.publicNetworkAccess).toBe(mode.vnet ? "Disabled" : "Enabled");
    expect(vault.networkAcls).toEqual(storage.networkAcls);
    if (mode.vnet) {
      expect(storage.publicNetworkAccess).toBe("Disabled");
      expect(storage.networkAcls).toEqual({ bypass: "None", defaultAction: "Deny" });
      expect(cosmos.publicNetworkAccess).toBe("Disabled");
    } else {
      expect(storage.publicNetworkAccess).toBe("Enabled");
      expect(storage.networkAcls).toEqual({ bypass: "AzureServices", defaultAction: "Allow" });
      expect(cosmos.publicNetworkAccess).toBe("Enabled");
    }
    // Either way: no keys, and Application Insights on public ingestion with Entra ID only (docs/deploy.md).
    expect(storage.allowSharedKeyAccess).toBe(false);
    expect(cosmos.disableLocalAuth).toBe(true);
    const insights = one(all, "Microsoft.Insights/components").properties();
    expect(insights.DisableLocalAuth).toBe(true);
    expect(insights.publicNetworkAccessForIngestion).toBe("Enabled");
  });

  if (!mode.vnet) {
    it(`${label(mode)}: no network resources, no virtual network integration`, () => {
      expect(all.filter((d) => d.type.startsWith("Microsoft.Network/"))).toEqual([]);
      expect(one(all, "Microsoft.Web/sites").properties().virtualNetworkSubnetId).toBeNull();
    });
  } else {
    it(`${label(mode)}: a virtual network with an app subnet delegated to Microsoft.App/environments and a NAT gateway`, () => {
      const vnet = one(all, "Microsoft.Network/virtualNetworks");
      const subnets = vnet.properties().subnets as { name: string; properties: Json }[];
      expect(subnets).toHaveLength(2);
      const [app, endpoints] = subnets;
      expect(app!.properties.delegations.map((d: Json) => d.properties.serviceName)).toEqual([
        "Microsoft.App/environments",
      ]);
      const nat = one(all, "Microsoft.Network/natGateways");
      expect(app!.properties.natGateway.id).toBe(idOf(nat));
      const ip = one(all, "Microsoft.Network/publicIPAddresses");
      expect(nat.properties().publicIpAddresses).toEqual([{ id: idOf(ip) }]);
      expect(endpoints!.properties.privateEndpointNetworkPolicies).toBe("Disabled");
      for (const s of subnets) expect(s.properties.defaultOutboundAccess).toBe(false);

      const site = one(all, "Microsoft.Web/sites");
      expect(site.properties().virtualNetworkSubnetId).toBe(`${idOf(vnet)}/subnets/${app!.name}`);
    });

    it(`${label(mode)}: private endpoints for blob, queue, Cosmos DB and Key Vault, each with its privatelink zone linked to the network`, () => {
      const vnet = one(all, "Microsoft.Network/virtualNetworks");
      const endpointSubnet = `${idOf(vnet)}/subnets/${(vnet.properties().subnets as Json[])[1].name}`;
      const storageId = idOf(one(all, "Microsoft.Storage/storageAccounts"));
      const cosmosId = idOf(one(all, "Microsoft.DocumentDB/databaseAccounts"));
      const expected: Record<string, { target: string; zone: string }> = {
        blob: { target: storageId, zone: "privatelink.blob.core.windows.net" },
        queue: { target: storageId, zone: "privatelink.queue.core.windows.net" },
        Sql: { target: cosmosId, zone: "privatelink.documents.azure.com" },
        vault: { target: idOf(one(all, "Microsoft.KeyVault/vaults")), zone: "privatelink.vaultcore.azure.net" },
      };
      const endpoints = ofType(all, "Microsoft.Network/privateEndpoints");
      expect(endpoints).toHaveLength(4);
      const zones = ofType(all, "Microsoft.Network/privateDnsZones");
      const links = ofType(all, "Microsoft.Network/privateDnsZones/virtualNetworkLinks");
      const groups = ofType(all, "Microsoft.Network/privateEndpoints/privateDnsZoneGroups");
      const seen: string[] = [];
      for (const endpoint of endpoints) {
        const p = endpoint.properties();
        expect(p.subnet.id).toBe(endpointSubnet);
        expect(p.privateLinkServiceConnections).toHaveLength(1);
        const connection = p.privateLinkServiceConnections[0].properties;
        const groupId = connection.groupIds[0] as string;
        seen.push(groupId);
        expect(connection.groupIds).toHaveLength(1);
        expect(connection.privateLinkServiceId).toBe(expected[groupId]!.target);
        // Its zone, linked to the network, and the zone group that writes its record there.
        const zone = zones.filter((z) => z.path.join("/") === endpoint.path.join("/"));
        expect(zone.map((z) => z.name)).toEqual([expected[groupId]!.zone]);
        const link = links.filter((l) => l.path.join("/") === endpoint.path.join("/"));
        expect(link).toHaveLength(1);
        expect(String(link[0]!.name).startsWith(`${expected[groupId]!.zone}/`)).toBe(true);
        expect(link[0]!.properties()).toEqual({ virtualNetwork: { id: idOf(vnet) }, registrationEnabled: false });
        const group = groups.filter((g) => g.path.join("/") === endpoint.path.join("/"));
        expect(group).toHaveLength(1);
        expect(group[0]!.properties().privateDnsZoneConfigs.map((c: Json) => c.properties.privateDnsZoneId)).toEqual([
          idOf(zone[0]!),
        ]);
      }
      expect(seen.sort()).toEqual(["Sql", "blob", "queue", "vault"]);
      expect(zones).toHaveLength(4);
    });

    it(`${label(mode)}: the function app waits for the private endpoints it reaches its data through`, () => {
      const app = moduleNamed(all, "function-app")[0]!;
      expect(app.resource.dependsOn).toEqual(
        expect.arrayContaining([
          "blobPrivateEndpoint",
          "queuePrivateEndpoint",
          "cosmosPrivateEndpoint",
          "keyVaultPrivateEndpoint",
        ]),
      );
    });
  }
});
