/**
 * The subscription service's rules on their own: the document a create stores, what a renewal stores, who is known
 * to have left a team, and the order of a create (the tenant's limit before the handshake, the slot after it, given
 * back when the store fails), with a fixed clock, a handshake that is told what to answer and the in-memory store.
 * The same rules through the HTTP handlers are in test/handlers/subscriptions.test.ts.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ApplicationCaller, Caller, DelegatedCaller } from "../../../shared/auth/access.js";
import { AccessDeniedError, InvalidInputError, QuotaExceededError, UnavailableError } from "../../../shared/errors.js";
import { utcNow } from "../../../shared/operations/timestamps.js";
import { parseCreateSubscription, type SubscriptionRequest } from "../../../shared/subscriptions/schema.js";
import {
  createSubscription,
  leftTheTeam,
  newSubscriptionDocument,
  renewedDocument,
  renewSubscription,
  type EndpointProperty,
  type SubscriptionServiceOptions,
} from "../../../shared/subscriptions/service.js";
import { MemorySubscriptionStore } from "../../support/memorySubscriptionStore.js";

// The service's clock, fixed; the store and the quota read the real one, so it is now.
const NOW = Date.now();
const minutesFromNow = (minutes: number) => utcNow(new Date(NOW + minutes * 60_000));
const AT = { serviceOrigin: "https://api.example.com", includeUnknownEnumMembers: false };

function delegated(teams: readonly string[], overrides: Partial<DelegatedCaller> = {}): DelegatedCaller {
  return {
    kind: "delegated",
    tenantId: "tenant-1",
    userId: "user-1",
    appId: "client-app",
    scopes: new Set(["TeamsAsyncOperation.Read"]),
    groups: new Set(teams),
    ...overrides,
  };
}

function application(overrides: Partial<ApplicationCaller> = {}): ApplicationCaller {
  return {
    kind: "application",
    tenantId: "tenant-1",
    appId: "client-app",
    servicePrincipalId: "service-principal",
    roles: new Set(["TeamsAsyncOperation.Read.All"]),
    ...overrides,
  };
}

function request(team: string, overrides: Record<string, unknown> = {}, delegatedCaller = false): SubscriptionRequest {
  return parseCreateSubscription(
    {
      changeType: "created",
      notificationUrl: "https://receiver.example.com/notify",
      resource: `teams/${team}/operations`,
      expirationDateTime: minutesFromNow(30),
      ...overrides,
    },
    { maxLifetimeMinutes: 4230, allowLoopback: false, delegated: delegatedCaller, now: NOW },
  );
}

/** The service over an in-memory store, a fixed clock and a handshake that passes unless told which URL fails. */
function service(overrides: Partial<SubscriptionServiceOptions> = {}) {
  const store = new MemorySubscriptionStore();
  const handshakes: string[] = [];
  const options: SubscriptionServiceOptions = {
    store,
    policy: { allowLoopback: false, resolve: () => Promise.reject(new Error("no network in a unit test")) },
    perTenant: 2,
    validationTimeoutMs: 1000,
    deliveryTimeoutMs: 1000,
    reauthorizationNoticeMinutes: 60,
    signsValidationTokens: false,
    log: () => undefined,
    now: () => NOW,
    validateEndpoint: (property: EndpointProperty, url: string) => {
      handshakes.push(url);
      return Promise.resolve();
    },
    ...overrides,
  };
  return { store, handshakes, options };
}

describe("the document a create stores", () => {
  const team = randomUUID();

  it("is partitioned by tenant and team, owned by its creator, and lives (TTL) until its expiration", () => {
    const creator = { kind: "user", id: "user-1" } as const;
    const document = newSubscriptionDocument(
      request(team, { clientState: "s" }),
      { tenantId: "tenant-1", creator, applicationId: "client-app" },
      AT,
      NOW,
    );
    expect(document).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      resourceKey: `tenant-1:${team}`,
      tenantId: "tenant-1",
      teamId: team,
      operationId: null,
      resource: `teams/${team}/operations`,
      teamPath: "teams",
      changeTypes: ["created"],
      notificationUrl: "https://receiver.example.com/notify",
      lifecycleNotificationUrl: null,
      clientState: "s",
      expirationDateTime: minutesFromNow(30),
      createdDateTime: utcNow(new Date(NOW)),
      creator,
      applicationId: "client-app",
      latestSupportedTlsVersion: "v1_2",
      ttl: 30 * 60,
    });
  });

  it("keeps where it was created, for its resource data, only when it has resource data or a certificate", () => {
    const owner = { tenantId: "t", creator: { kind: "application", id: "a" } as const, applicationId: null };
    const at = { serviceOrigin: "https://api.example.com", includeUnknownEnumMembers: true };
    const plain = newSubscriptionDocument(request(team), owner, at, NOW);
    expect(plain).not.toHaveProperty("serviceOrigin");
    expect(plain).not.toHaveProperty("includeResourceData");
    const withCertificateId = newSubscriptionDocument(
      { ...request(team), encryptionCertificateId: "my-certificate" },
      owner,
      at,
      NOW,
    );
    expect(withCertificateId).toMatchObject({
      includeResourceData: false,
      encryptionCertificate: null,
      encryptionCertificateId: "my-certificate",
      serviceOrigin: "https://api.example.com",
      includeUnknownEnumMembers: true,
    });
  });
});

describe("what a renewal stores", () => {
  const team = randomUUID();
  const stored = (creator: "user" | "application", lifecycleNotificationUrl: string | null = null) =>
    newSubscriptionDocument(
      request(team, lifecycleNotificationUrl ? { lifecycleNotificationUrl } : {}),
      { tenantId: "t", creator: { kind: creator, id: "x" }, applicationId: null },
      AT,
      NOW - 10 * 60_000,
    );

  it("the new expiration, when it was renewed, and a TTL that ends at the new expiration", () => {
    const renewal = { expirationDateTime: minutesFromNow(45) };
    const next = renewedDocument(stored("user"), renewal, NOW);
    expect(next).toMatchObject({
      expirationDateTime: minutesFromNow(45),
      renewedDateTime: utcNow(new Date(NOW)),
      ttl: 45 * 60,
    });
  });

  it("at most an hour for a delegated subscription without a lifecycle URL; longer with one, or an application's", () => {
    const renewal = { expirationDateTime: minutesFromNow(61) };
    expect(() => renewedDocument(stored("user"), renewal, NOW)).toThrow(InvalidInputError);
    expect(renewedDocument(stored("user", "https://receiver.example.com/lifecycle"), renewal, NOW).ttl).toBe(61 * 60);
    expect(renewedDocument(stored("application"), renewal, NOW).ttl).toBe(61 * 60);
  });
});

describe("who is known to have left the team", () => {
  const team = randomUUID();
  const resource = `teams/${team}/operations`;

  it("a delegated caller with the read permission and a full groups claim without the team", () => {
    expect(leftTheTeam(delegated([randomUUID()]), resource)).toBe(true);
    expect(leftTheTeam(delegated([team]), resource)).toBe(false);
  });

  it("not a caller another token could mend: group overage, no read permission; not an application", () => {
    expect(leftTheTeam(delegated([], { groups: "overage" }), resource)).toBe(false);
    expect(leftTheTeam(delegated([], { scopes: new Set(["User.Read"]) }), resource)).toBe(false);
    expect(leftTheTeam(application(), resource)).toBe(false);
    expect(leftTheTeam(delegated([]), "not/a/resource")).toBe(false);
  });
});

describe("a create", () => {
  const team = randomUUID();

  it("looks at the tenant's limit before the handshake, so a tenant at its limit costs none", async () => {
    const { options, handshakes, store } = service({ perTenant: 1 });
    await createSubscription(options, application(), request(team), AT);
    expect(handshakes).toHaveLength(1);
    const refused = createSubscription(options, application(), request(team), AT);
    await expect(refused).rejects.toBeInstanceOf(QuotaExceededError);
    await expect(refused).rejects.toThrow("The tenant holds 1 subscriptions, the most it may hold (1)");
    expect(handshakes).toHaveLength(1);
    expect(store.documents()).toHaveLength(1);
  });

  it("validates the lifecycle URL too, and takes no slot when a handshake fails", async () => {
    const lifecycle = "https://receiver.example.com/lifecycle";
    const { options, handshakes, store } = service({
      validateEndpoint: (property, url) => {
        handshakes.push(url);
        return property === "lifecycleNotificationUrl"
          ? Promise.reject(new InvalidInputError("it answered 500, not 200", { target: property }))
          : Promise.resolve();
      },
    });
    const failed = createSubscription(
      options,
      application(),
      request(team, { lifecycleNotificationUrl: lifecycle }),
      AT,
    );
    await expect(failed).rejects.toMatchObject({ target: "lifecycleNotificationUrl" });
    expect(handshakes.sort()).toEqual([lifecycle, "https://receiver.example.com/notify"]);
    expect(store.quotaSlots("tenant-1")).toBeUndefined();
    expect(store.documents()).toEqual([]);
  });

  it("gives the slot back when the store fails the create", async () => {
    const { options, store } = service();
    store.failOn("create", () => new UnavailableError("The store is not available; retry later.", 5));
    await expect(createSubscription(options, application(), request(team), AT)).rejects.toBeInstanceOf(
      UnavailableError,
    );
    expect(store.quotaSlots("tenant-1")).toEqual([]);
  });

  it("refuses a token that names no owner, after the access check", async () => {
    const { options, handshakes } = service();
    const noOwner = application({ servicePrincipalId: undefined, appId: undefined });
    await expect(createSubscription(options, noOwner, request(team), AT)).rejects.toBeInstanceOf(AccessDeniedError);
    expect(handshakes).toEqual([]);
  });
});

describe("a renewal", () => {
  it("removes the subscription of a creator who has left the team, and says so", async () => {
    const team = randomUUID();
    const logs: string[] = [];
    const { options, store } = service({ log: (message) => logs.push(message) });
    const caller: Caller = delegated([team]);
    const created = await createSubscription(options, caller, request(team, {}, true), AT);
    const renewal = renewSubscription(options, delegated([]), created.id, {
      expirationDateTime: minutesFromNow(40),
    });
    await expect(renewal).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(renewal).rejects.toThrow(
      "The signed-in user is not a member of this team. The subscription was removed.",
    );
    expect(store.documents()).toEqual([]);
    expect(store.quotaSlots("tenant-1")).toEqual([]);
    expect(logs).toEqual([`subscription ${created.id} removed (its creator is no longer a member of the team)`]);
  });
});
