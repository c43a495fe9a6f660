/**
 * Alerting, dashboards and diagnostics as deployed, on the compiled ARM evaluated as azd would deploy it, in both
 * network modes, zone-redundant and not: the action group and who it tells, the metric alerts on the API and Cosmos
 * DB, the log alerts (the queries of infra/queries, the same text as docs/operations.md, naming what the app really
 * sends), the availability test of the health route, the budget, the stores' diagnostic settings and the workbook.
 * Needs the Bicep CLI (see template.test.ts).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { TELEMETRY } from "../../shared/telemetry.js";
import type { Deployed } from "./armEvaluator.js";
import { Runtime } from "./armEvaluator.js";
import type { ArmTemplate } from "./bicep.js";
import { INFRA, ROOT, buildMain, findBicep } from "./bicep.js";
import { deployFrom, idOf, moduleNamed, ofType, one } from "./deployments.js";
import { setUpOrFailEach } from "../support/setUpOrFail.js";

let main: ArmTemplate;
setUpOrFailEach(async () => {
  main = await buildMain(findBicep());
});

const MODES = [
  { vnet: false, zoneRedundant: false },
  { vnet: false, zoneRedundant: true },
  { vnet: true, zoneRedundant: false },
  { vnet: true, zoneRedundant: true },
];

const QUERIES = Object.fromEntries(
  readdirSync(path.join(INFRA, "queries"))
    .filter((file) => file.endsWith(".kql"))
    .map((file) => [file.replace(/\.kql$/, ""), readFileSync(path.join(INFRA, "queries", file), "utf8")]),
);
const OPERATIONS_DOC = readFileSync(path.join(ROOT, "docs/operations.md"), "utf8");
/** A query without its comment lines: what docs/operations.md shows in its kusto blocks. */
const queryBody = (query: string) =>
  query
    .split("\n")
    .filter((line) => !line.startsWith("//"))
    .join("\n")
    .trim();

const named = (all: Deployed[], type: string, suffix: string) =>
  ofType(all, type).filter((d) => String(d.name).endsWith(`-${suffix}`));

describe("the queries the log alerts run", () => {
  it("are the ones docs/operations.md shows, word for word", () => {
    expect(Object.keys(QUERIES).length).toBeGreaterThanOrEqual(7);
    for (const [name, query] of Object.entries(QUERIES)) {
      expect(OPERATIONS_DOC, `docs/operations.md shows ${name}.kql`).toContain(queryBody(query));
    }
  });

  it("name the events, metrics and exceptions the app sends, and the queues the deployment creates", () => {
    const sent = new Set<string>([
      ...Object.values(TELEMETRY.events),
      ...Object.values(TELEMETRY.metrics),
      TELEMETRY.changeFeedBatchLost,
    ]);
    for (const [name, query] of Object.entries(QUERIES)) {
      const quoted = [
        ...query.matchAll(/name (?:==|in) \(?"([A-Za-z]+)"/g),
        ...query.matchAll(/type == "([A-Za-z]+)"/g),
      ];
      for (const match of quoted) expect(sent, `${name}.kql names ${match[1]}`).toContain(match[1]);
    }
    for (const consumer of ["publishCompletionEvents", "deliverNotifications"]) {
      expect(QUERIES["change-feed-stalled"]).toContain(`"${consumer}"`);
    }
    expect(QUERIES["queue-backlog"]).toContain('not(queue endswith "-poison")');
  });
});

describe.each(MODES)("deployment with %j", (mode) => {
  let all: Deployed[];
  const label = `vnetEnabled=${mode.vnet}, zoneRedundant=${mode.zoneRedundant}`;
  const env = { VNET_ENABLED: String(mode.vnet), ZONE_REDUNDANT: String(mode.zoneRedundant) };
  beforeAll(() => {
    if (main) all = deployFrom(main, env);
  });

  const insightsId = () => idOf(one(all, "Microsoft.Insights/components"));
  const actionGroupId = () => idOf(one(all, "Microsoft.Insights/actionGroups"));

  it(`${label}: one action group, which every alert notifies, telling nobody until addresses are given`, () => {
    const group = one(all, "Microsoft.Insights/actionGroups").properties();
    expect(group.enabled).toBe(true);
    expect(group.emailReceivers).toEqual([]);
    expect(group.webhookReceivers).toEqual([]);
    const alerts = [
      ...ofType(all, "Microsoft.Insights/metricAlerts"),
      ...ofType(all, "Microsoft.Insights/scheduledQueryRules"),
    ];
    expect(alerts.length).toBe(13);
    for (const alert of alerts) {
      const actions = alert.properties().actions;
      const ids = Array.isArray(actions)
        ? actions.map((a: { actionGroupId: string }) => a.actionGroupId)
        : actions.actionGroups;
      expect(ids, String(alert.name)).toEqual([actionGroupId()]);
    }
  });

  it(`${label}: the email addresses and the webhook azd is given become the action group's receivers`, () => {
    const withReceivers = deployFrom(main, {
      ...env,
      ALERT_EMAILS: "ops@contoso.com, oncall@contoso.com,",
      ALERT_WEBHOOK_URL: "https://hooks.contoso.com/alerts",
    });
    const group = one(withReceivers, "Microsoft.Insights/actionGroups").properties();
    expect(group.emailReceivers.map((r: { emailAddress: string }) => r.emailAddress)).toEqual([
      "ops@contoso.com",
      "oncall@contoso.com",
    ]);
    expect(group.webhookReceivers).toEqual([
      { name: "webhook", serviceUri: "https://hooks.contoso.com/alerts", useCommonAlertSchema: true },
    ]);
    expect(main.parameters?.alertWebhookUrl?.type).toBe("securestring");
  });

  it(`${label}: metric alerts on the API's server errors and latency, and on Cosmos DB's 429s, 5xx and latency`, () => {
    const cosmosId = idOf(one(all, "Microsoft.DocumentDB/databaseAccounts"));
    const expected: Record<string, { scope: string; metric: string; dimensions?: unknown[] }> = {
      "api-server-errors": {
        scope: insightsId(),
        metric: "requests/count",
        dimensions: [{ name: "request/resultCode", operator: "Include", values: ["500", "502", "503", "504"] }],
      },
      "api-latency": { scope: insightsId(), metric: "requests/duration", dimensions: [] },
      "cosmos-throttled": {
        scope: cosmosId,
        metric: "TotalRequests",
        dimensions: [{ name: "StatusCode", operator: "Include", values: ["429"] }],
      },
      "cosmos-server-errors": {
        scope: cosmosId,
        metric: "TotalRequests",
        dimensions: [{ name: "StatusCode", operator: "Include", values: ["500", "503"] }],
      },
      "cosmos-latency": { scope: cosmosId, metric: "ServerSideLatencyGateway", dimensions: [] },
    };
    for (const [name, want] of Object.entries(expected)) {
      const [alert] = named(all, "Microsoft.Insights/metricAlerts", name);
      expect(alert, name).toBeDefined();
      const p = alert!.properties();
      expect(p.scopes).toEqual([want.scope]);
      expect(p.enabled).toBe(true);
      const [criterion, ...more] = p.criteria.allOf;
      expect(more).toEqual([]);
      expect(criterion).toMatchObject({
        metricName: want.metric,
        operator: "GreaterThan",
        dimensions: want.dimensions,
      });
    }
  });

  it(`${label}: a log alert per query of infra/queries, on the Application Insights component`, () => {
    const rules = ofType(all, "Microsoft.Insights/scheduledQueryRules");
    expect(rules.map((r) => String(r.name).replace(/^alert-[^-]+-/, "")).sort()).toEqual(Object.keys(QUERIES).sort());
    for (const rule of rules) {
      const p = rule.properties();
      const name = String(rule.name).replace(/^alert-[^-]+-/, "");
      expect(rule.resource.kind).toBe("LogAlert");
      expect(p.scopes).toEqual([insightsId()]);
      expect(p.criteria.allOf).toHaveLength(1);
      expect(p.criteria.allOf[0]).toMatchObject({
        query: QUERIES[name],
        timeAggregation: "Count",
        operator: "GreaterThan",
      });
    }
  });

  it(`${label}: a standard availability test of GET /v1.0/health, from two or more places, with its alert`, () => {
    const test = one(all, "Microsoft.Insights/webtests");
    expect(test.resource.kind).toBe("standard");
    const p = test.properties();
    expect(p.Request.HttpVerb).toBe("GET");
    // The function app's own host name (known once it exists), and the route prefix of host.json.
    const url = p.Request.RequestUrl as Runtime;
    expect(url).toBeInstanceOf(Runtime);
    expect(url.text).toMatch(
      /^https:\/\/⟨reference\('functionApp'\)\.outputs\.defaultHostName\.value⟩\/v1\.0\/health$|^https:\/\/.*defaultHostName.*\/v1\.0\/health$/,
    );
    const host = JSON.parse(readFileSync(path.join(ROOT, "host.json"), "utf8"));
    expect(host.extensions.http.routePrefix).toBe("v1.0");
    expect(p.ValidationRules).toMatchObject({ ExpectedHttpStatusCode: 200, SSLCheck: true });
    expect(p.Locations.length).toBeGreaterThanOrEqual(2);
    expect(test.value("tags")).toMatchObject({ [`hidden-link:${insightsId()}`]: "Resource" });
    const [alert] = named(all, "Microsoft.Insights/metricAlerts", "availability");
    const criteria = alert!.properties().criteria;
    expect(criteria).toMatchObject({
      "odata.type": "Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria",
      webTestId: idOf(test),
      componentId: insightsId(),
      failedLocationCount: 2,
    });
  });

  it(`${label}: a monthly budget with actual and forecast thresholds, to the action group; none for 0`, () => {
    const budget = one(all, "Microsoft.Consumption/budgets").properties();
    expect(budget).toMatchObject({ category: "Cost", amount: 50, timeGrain: "Monthly" });
    expect(budget.timePeriod.startDate).toMatch(/^\d{4}-\d{2}-01T00:00:00Z$/);
    const notifications = Object.values<{ threshold: number; thresholdType: string; contactGroups: string[] }>(
      budget.notifications,
    );
    expect(notifications.map((n) => `${n.thresholdType} ${n.threshold}`).sort()).toEqual([
      "Actual 100",
      "Actual 50",
      "Actual 80",
      "Forecasted 100",
    ]);
    for (const n of notifications) expect(n.contactGroups).toEqual([actionGroupId()]);
    expect(ofType(deployFrom(main, { ...env, MONTHLY_BUDGET: "0" }), "Microsoft.Consumption/budgets")).toEqual([]);
    expect(
      one(deployFrom(main, { ...env, MONTHLY_BUDGET: "200" }), "Microsoft.Consumption/budgets").properties().amount,
    ).toBe(200);
  });

  it(`${label}: Cosmos DB's and the queues' and blobs' resource logs go to the workspace`, () => {
    const workspaceId = idOf(one(all, "Microsoft.OperationalInsights/workspaces"));
    const settings = ofType(all, "Microsoft.Insights/diagnosticSettings");
    const storageId = idOf(one(all, "Microsoft.Storage/storageAccounts"));
    const byScope = Object.fromEntries(settings.map((s) => [String(s.value("scope")), s.properties()]));
    const cosmos = byScope[idOf(one(all, "Microsoft.DocumentDB/databaseAccounts"))];
    expect(cosmos.workspaceId).toBe(workspaceId);
    expect(cosmos.logAnalyticsDestinationType).toBe("Dedicated");
    // Every store call is a dependency already (status, substatus, activity id, charge): no row per request here.
    expect(cosmos.logs.map((l: { category: string }) => l.category).sort()).toEqual([
      "ControlPlaneRequests",
      "PartitionKeyRUConsumption",
    ]);
    for (const service of ["blobServices", "queueServices"]) {
      const setting = byScope[`${storageId}/${service}/default`];
      expect(setting, service).toBeDefined();
      expect(setting.workspaceId).toBe(workspaceId);
      expect(setting.logs.map((l: { category: string }) => l.category).sort()).toEqual([
        "StorageDelete",
        "StorageWrite",
      ]);
    }
    // And the signing key's vault, whose audit log test/infra/keyVault.test.ts checks: nothing else.
    expect(Object.keys(byScope).sort()).toEqual(
      [
        idOf(one(all, "Microsoft.DocumentDB/databaseAccounts")),
        `${storageId}/blobServices/default`,
        `${storageId}/queueServices/default`,
        idOf(one(all, "Microsoft.KeyVault/vaults")),
      ].sort(),
    );
  });

  it(`${label}: a workbook on the component that shows the API, the store, the queues and the notifications`, () => {
    const workbook = one(all, "Microsoft.Insights/workbooks");
    const p = workbook.properties();
    expect(p.sourceId).toBe(insightsId());
    const data = JSON.parse(p.serializedData as string) as { items: { name: string; content: { query?: string } }[] };
    expect(JSON.stringify(data)).not.toMatch(/__[A-Z_]+__/);
    const queries = data.items.map((i) => i.content.query ?? "").join("\n");
    for (const name of [
      TELEMETRY.metrics.queueDepth,
      TELEMETRY.metrics.changeFeedLagSeconds,
      TELEMETRY.metrics.storeRequestCharge,
      TELEMETRY.events.operationRejected,
      TELEMETRY.events.messagePoisoned,
      TELEMETRY.events.changeFeedDeadLettered,
      TELEMETRY.changeFeedBatchLost,
    ]) {
      expect(queries, name).toContain(`"${name}"`);
    }
    expect(data.items.map((i) => i.name)).toEqual(
      expect.arrayContaining(["api-heading", "store-heading", "queues-heading", "changes-heading"]),
    );
    expect(moduleNamed(all, "monitoring-workbook")).toHaveLength(1);
  });
});
