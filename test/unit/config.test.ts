import { describe, expect, it } from "vitest";
import { loadConfig, misspeltSettings, readSetting, SETTINGS } from "../../shared/config.js";

const complete = {
  COSMOS_ENDPOINT: "https://acct.documents.azure.com:443/",
  AUTH_AUDIENCES: "api://team-operations, 6a0e4c9d-1111-4222-8333-944455556666",
  AUTH_TENANTS: "D0D0D0D0-0000-4000-8000-000000000001",
};

describe("configuration", () => {
  it("reads a complete configuration with documented defaults", () => {
    const config = loadConfig(complete);
    expect(config.cosmos).toEqual({
      endpoint: complete.COSMOS_ENDPOINT,
      database: "teamops",
      container: "operations",
      key: undefined,
      managedIdentityClientId: undefined,
      credential: "managedidentity",
    });
    expect(config.auth.audiences).toEqual(["api://team-operations", "6a0e4c9d-1111-4222-8333-944455556666"]);
    expect(config.auth.tenants).toEqual(["d0d0d0d0-0000-4000-8000-000000000001"]);
    expect(config.auth.jwksUri).toBe("https://login.microsoftonline.com/common/discovery/v2.0/keys");
    expect(config.operationTtlSeconds).toBe(30 * 86_400);
    expect(config.retryAfterSeconds).toBe(5);
    expect(config.subscriptions).toEqual({
      container: "subscriptions",
      deliveryQueue: "subscription-deliveries",
      maxLifetimeMinutes: 4230,
      perTenant: 100,
      validationTimeoutMs: 10_000,
      deliveryTimeoutMs: 5_000,
      retryScheduleSeconds: [10, 60, 300, 900, 1800, 3600],
      reauthorizationNoticeMinutes: 60,
      allowLoopback: false,
    });
  });

  it("uses a developer's own sign-in for Cosmos DB only when asked to", () => {
    expect(loadConfig({ ...complete, COSMOS_CREDENTIAL: "Developer" }).cosmos.credential).toBe("developer");
  });

  it.each([
    [{ ...complete, COSMOS_ENDPOINT: "" }, /COSMOS_ENDPOINT is required/],
    [{ ...complete, AUTH_TENANTS: undefined }, /AUTH_TENANTS is required/],
    [{ ...complete, AUTH_TENANTS: "contoso.com" }, /AUTH_TENANTS must be \*/],
    [{ ...complete, AUTH_AUDIENCES: " , " }, /AUTH_AUDIENCES/],
    [{ ...complete, AUTH_JWKS_URI: "http://login.example.com/keys" }, /must be an https URL/],
    [{ ...complete, AUTH_JWKS_FILE: "/tmp/jwks.json", WEBSITE_SITE_NAME: "app" }, /local development only/],
    [{ ...complete, OPERATION_TTL_DAYS: "0" }, /OPERATION_TTL_DAYS must be a positive whole number/],
    [{ ...complete, PUBLIC_BASE_URL: "https://api.contoso.com/v1.0" }, /PUBLIC_BASE_URL must be a scheme and host/],
    [{ ...complete, COSMOS_CREDENTIAL: "key" }, /COSMOS_CREDENTIAL must be managedidentity or developer, not "key"/],
    [{ ...complete, COSMOS_CREDENTIAL: "developer", WEBSITE_SITE_NAME: "app" }, /local runs only/],
    [{ ...complete, SUBSCRIPTION_ALLOW_LOOPBACK: "true", WEBSITE_SITE_NAME: "app" }, /refused in Azure/],
    [{ ...complete, SUBSCRIPTION_ALLOW_LOOPBACK: "yes" }, /SUBSCRIPTION_ALLOW_LOOPBACK must be true or false/],
    [{ ...complete, SUBSCRIPTION_RETRY_SCHEDULE_SECONDS: "10,x" }, /SUBSCRIPTION_RETRY_SCHEDULE_SECONDS/],
    [{ ...complete, SUBSCRIPTIONS_PER_TENANT: "0" }, /SUBSCRIPTIONS_PER_TENANT must be a positive whole number/],
  ])("refuses an incomplete or contradictory configuration (%#)", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe("the settings catalogue", () => {
  it("reads each setting by its name, typed by its parser; an unknown name fails the type check", () => {
    expect(readSetting(complete, "SUBSCRIPTIONS_PER_TENANT")).toBe(100);
    expect(readSetting({ ...complete, SUBSCRIPTION_ALLOW_LOOPBACK: " TRUE " }, "SUBSCRIPTION_ALLOW_LOOPBACK")).toBe(
      true,
    );
    expect(readSetting(complete, "AUTH_TENANTS")).toEqual(["d0d0d0d0-0000-4000-8000-000000000001"]);
    // @ts-expect-error: AUTH_TENANT is no setting (AUTH_TENANTS is).
    expect(() => readSetting(complete, "AUTH_TENANT")).toThrow();
    // @ts-expect-error: the host reads FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, the app does not.
    expect(() => readSetting(complete, "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT")).toThrow();
  });

  it("says what each setting the app reads accepts, and names the setting when a value is refused", () => {
    for (const spec of SETTINGS) expect(spec.accepts === undefined, spec.name).toBe(spec.host === true);
    expect(() => readSetting({ RETRY_AFTER_SECONDS: "soon" }, "RETRY_AFTER_SECONDS")).toThrow(
      'Configuration error: RETRY_AFTER_SECONDS must be a positive whole number, not "soon".',
    );
  });
});

describe("local.settings.sample.json", () => {
  it("lists every setting the app reads", async () => {
    const { readFileSync } = await import("node:fs");
    const { SETTINGS } = await import("../../shared/config.js");
    const sample = JSON.parse(readFileSync(new URL("../../local.settings.sample.json", import.meta.url), "utf8")) as {
      Values: Record<string, string>;
    };
    const appSettings = SETTINGS.filter((s) => !s.host).map((s) => s.name);
    expect(Object.keys(sample.Values)).toEqual(expect.arrayContaining(appSettings));
  });
});

describe("a setting that looks misspelt", () => {
  const settings = ["LOCAL_PERSISTENCE", "LOCAL_QUEUES", "PORT", "AUTH_TENANTS", "COSMOS_KEY"];

  it.each([
    ["LOCAL_PERSISTANCE", "LOCAL_PERSISTENCE"],
    ["LOCAL_PERSISTENSE", "LOCAL_PERSISTENCE"],
    ["local_persistence", "LOCAL_PERSISTENCE"],
    ["LOCAL_QUEUE", "LOCAL_QUEUES"],
    ["AUTH_TENANT", "AUTH_TENANTS"],
    ["COSMOS_KEYS", "COSMOS_KEY"],
    ["PORTS", "PORT"],
  ])("%s names %s", (given, meant) => {
    expect(misspeltSettings([given], settings)).toEqual([
      `${given} is not a setting (it is ignored): did you mean ${meant}?`,
    ]);
  });

  it.each([
    ["a known setting", "LOCAL_QUEUES"],
    ["another first word", "LOKAL_QUEUES"],
    ["too far from any", "LOCAL_PERSISTENCE_MODE"],
    ["another program's", "PATH"],
    ["short and two edits away", "PORTAL"],
    ["a setting someone else checks", "COSMOS_KEYZ"],
  ])("not %s (%s)", (_why, given) => {
    expect(misspeltSettings([given], settings, ["COSMOS_KEYZ"])).toEqual([]);
  });
});
