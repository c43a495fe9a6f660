/**
 * Deploy safety and data protection, on the compiled ARM evaluated as azd would deploy it, in both network modes,
 * zone-redundant and not: how a deployment reaches running instances, where the app may be deployed, what sizes
 * and caps azd can set, and what keeps the data (backups, the delete lock, soft delete, zones, a second region).
 * Needs the Bicep CLI (see template.test.ts).
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { ArmTemplate, BicepCli } from "./bicep.js";
import { buildMain, diagnostics, findBicep } from "./bicep.js";
import type { Deployed } from "./armEvaluator.js";
import { DeploymentFailed } from "./armEvaluator.js";
import { azdEnvironment, buildParameters, deployFrom, idOf, ofType, one } from "./deployments.js";
import { setUpOrFailEach } from "../support/setUpOrFail.js";

let cli: BicepCli;
let main: ArmTemplate;
setUpOrFailEach(async () => {
  cli = findBicep();
  main = await buildMain(cli);
});

/** The regions `az functionapp list-flexconsumption-locations` lists (as Microsoft's Flex Consumption azd samples do). */
const FLEX_REGIONS = [
  "australiaeast",
  "australiasoutheast",
  "brazilsouth",
  "canadacentral",
  "centralindia",
  "centralus",
  "eastasia",
  "eastus",
  "eastus2",
  "francecentral",
  "germanywestcentral",
  "italynorth",
  "japaneast",
  "koreacentral",
  "northcentralus",
  "northeurope",
  "norwayeast",
  "southafricanorth",
  "southcentralus",
  "southeastasia",
  "southindia",
  "spaincentral",
  "swedencentral",
  "uaenorth",
  "uksouth",
  "ukwest",
  "westcentralus",
  "westeurope",
  "westus",
  "westus2",
  "westus3",
];

const MODES = [
  { vnet: false, zoneRedundant: false },
  { vnet: false, zoneRedundant: true },
  { vnet: true, zoneRedundant: false },
  { vnet: true, zoneRedundant: true },
];

const deployMode = (mode: (typeof MODES)[number], env: Record<string, string> = {}) =>
  deployFrom(main, { VNET_ENABLED: String(mode.vnet), ZONE_REDUNDANT: String(mode.zoneRedundant), ...env });

describe("azd environment variables", () => {
  it("default to 512 MB instances, up to 100 of them, rolling updates, no log cap, one zone, the delete lock", () => {
    const defaults = {
      instanceMemoryMB: 512,
      maximumInstanceCount: 100,
      siteUpdateStrategy: "RollingUpdate",
      logDailyQuotaGb: -1,
      zoneRedundant: false,
      cosmosSecondaryLocation: "",
      cosmosDeleteLock: true,
    };
    expect(azdEnvironment(main)).toMatchObject(defaults);
    // main.bicep's own defaults are the same, for `az deployment` without azd.
    for (const [name, value] of Object.entries(defaults)) {
      expect(main.parameters?.[name]?.defaultValue, name).toBe(value);
    }
  });

  it("set the instance memory, the instance cap, the update strategy and the log cap of the deployment", () => {
    const all = deployFrom(main, {
      INSTANCE_MEMORY_MB: "2048",
      MAXIMUM_INSTANCE_COUNT: "40",
      SITE_UPDATE_STRATEGY: "Recreate",
      LOG_DAILY_QUOTA_GB: "5",
    });
    const config = one(all, "Microsoft.Web/sites").properties().functionAppConfig;
    expect(config.scaleAndConcurrency).toMatchObject({ instanceMemoryMB: 2048, maximumInstanceCount: 40 });
    expect(config.siteUpdateStrategy).toEqual({ type: "Recreate" });
    expect(one(all, "Microsoft.OperationalInsights/workspaces").properties().workspaceCapping).toEqual({
      dailyQuotaGb: 5,
    });
  });
});

describe("where it may be deployed", () => {
  it("only to regions that offer Flex Consumption: the location's allowed values, which azd offers alone", () => {
    expect(main.parameters?.location).toMatchObject({ allowedValues: FLEX_REGIONS });
  });

  it("a region without Flex Consumption is refused before anything is deployed; one with it is not", () => {
    const refused = buildParameters(cli, { location: "'brazilsoutheast'" });
    expect(refused.status).not.toBe(0);
    expect(refused.output).toMatch(/Error BCP\d+: .*'westus3'/);
    const accepted = buildParameters(cli, { location: "'westus3'" });
    expect(diagnostics(accepted.output).filter((l) => / : Error /.test(l))).toEqual([]);
    expect(accepted.status, accepted.output).toBe(0);
  }, 120_000);
});

describe("Cosmos DB capacity checks", () => {
  it("an autoscale maximum that is not a multiple of 1000 RU/s stops the deployment with the reason", () => {
    expect(() =>
      deployFrom(main, { COSMOS_CAPACITY_MODE: "Autoscale", COSMOS_AUTOSCALE_MAX_THROUGHPUT: "1500" }),
    ).toThrow(new DeploymentFailed("cosmosAutoscaleMaxThroughput must be a multiple of 1000 RU/s."));
    const all = deployFrom(main, { COSMOS_CAPACITY_MODE: "Autoscale", COSMOS_AUTOSCALE_MAX_THROUGHPUT: "4000" });
    expect(one(all, "Microsoft.DocumentDB/databaseAccounts/sqlDatabases").properties().options).toEqual({
      autoscaleSettings: { maxThroughput: 4000 },
    });
  });

  it("a second region on a serverless account stops the deployment: geo-replication needs provisioned throughput", () => {
    expect(() => deployFrom(main, { COSMOS_SECONDARY_LOCATION: "norwayeast" })).toThrow(
      /cosmosSecondaryLocation needs cosmosCapacityMode Autoscale/,
    );
  });
});

describe("restoring the store", () => {
  it("adopts a restored account named in COSMOS_ACCOUNT_NAME: the app, its roles and the lock follow it", () => {
    const all = deployFrom(main, { COSMOS_ACCOUNT_NAME: "cosmos-restored-0915" });
    const account = one(all, "Microsoft.DocumentDB/databaseAccounts");
    expect(account.name).toBe("cosmos-restored-0915");
    expect(one(all, "Microsoft.Authorization/locks").value("scope")).toBe(idOf(account));
    for (const assignment of ofType(all, "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments")) {
      expect(String(assignment.name)).toMatch(/^cosmos-restored-0915\//);
    }
    // The app's settings read the endpoint from the account the deployment names (template.test.ts checks which).
    expect(one(deployFrom(main), "Microsoft.DocumentDB/databaseAccounts").name).toMatch(/^cosmos-[a-z0-9]{13}$/);
  });
});

describe.each(MODES)("deployment with %j", (mode) => {
  let all: Deployed[];
  beforeAll(() => {
    if (main) all = deployMode(mode);
  });
  const label = `vnetEnabled=${mode.vnet}, zoneRedundant=${mode.zoneRedundant}`;

  it(`${label}: a deployment drains instances in batches (rolling update); no affinity cookie; 512 MB instances`, () => {
    const site = one(all, "Microsoft.Web/sites").properties();
    expect(site.functionAppConfig.siteUpdateStrategy).toEqual({ type: "RollingUpdate" });
    expect(site.clientAffinityEnabled).toBe(false);
    expect(site.functionAppConfig.scaleAndConcurrency).toMatchObject({
      instanceMemoryMB: 512,
      maximumInstanceCount: 100,
    });
  });

  it(`${label}: Cosmos DB keeps 30 days of continuous backup and is locked against deletion`, () => {
    const account = one(all, "Microsoft.DocumentDB/databaseAccounts");
    expect(account.properties().backupPolicy).toEqual({
      type: "Continuous",
      continuousModeProperties: { tier: "Continuous30Days" },
    });
    const lock = one(all, "Microsoft.Authorization/locks");
    expect(lock.properties().level).toBe("CanNotDelete");
    expect(lock.value("scope")).toBe(idOf(account));
  });

  it(`${label}: blob soft delete keeps deleted and overwritten blobs (the package) and deleted containers`, () => {
    const blobs = one(all, "Microsoft.Storage/storageAccounts/blobServices").properties();
    expect(blobs.deleteRetentionPolicy.enabled).toBe(true);
    expect(blobs.deleteRetentionPolicy.days).toBeGreaterThanOrEqual(7);
    expect(blobs.containerDeleteRetentionPolicy.enabled).toBe(true);
    expect(blobs.containerDeleteRetentionPolicy.days).toBeGreaterThanOrEqual(7);
  });

  it(`${label}: ${mode.zoneRedundant ? "every" : "no"} tier is spread across availability zones`, () => {
    const storage = one(all, "Microsoft.Storage/storageAccounts");
    expect(storage.resource.sku ? storage.value("sku") : undefined).toEqual({
      name: mode.zoneRedundant ? "Standard_ZRS" : "Standard_LRS",
    });
    const locations = one(all, "Microsoft.DocumentDB/databaseAccounts").properties().locations;
    expect(locations).toEqual([
      { locationName: "swedencentral", failoverPriority: 0, isZoneRedundant: mode.zoneRedundant },
    ]);
    expect(one(all, "Microsoft.Web/serverfarms").properties().zoneRedundant).toBe(mode.zoneRedundant);
  });

  it(`${label}: one Cosmos DB region, so no automatic failover to configure`, () => {
    expect(one(all, "Microsoft.DocumentDB/databaseAccounts").properties().enableAutomaticFailover).toBe(false);
  });

  it(`${label}: with provisioned throughput, a second region replicates the account with service-managed failover`, () => {
    const geo = deployMode(mode, { COSMOS_CAPACITY_MODE: "Autoscale", COSMOS_SECONDARY_LOCATION: "norwayeast" });
    const account = one(geo, "Microsoft.DocumentDB/databaseAccounts").properties();
    expect(account.locations).toEqual([
      { locationName: "swedencentral", failoverPriority: 0, isZoneRedundant: mode.zoneRedundant },
      { locationName: "norwayeast", failoverPriority: 1, isZoneRedundant: mode.zoneRedundant },
    ]);
    expect(account.enableAutomaticFailover).toBe(true);
    expect(account.enableMultipleWriteLocations).toBe(false);
  });

  it(`${label}: the delete lock can be turned off (COSMOS_DELETE_LOCK=false), for throwaway environments`, () => {
    expect(ofType(deployMode(mode, { COSMOS_DELETE_LOCK: "false" }), "Microsoft.Authorization/locks")).toEqual([]);
  });
});
