import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { describe, expect, it } from "vitest";
import {
  COMMAND,
  SUBSCRIPTION_VALIDATORS_FILE,
  SUBSCRIPTIONS_ORIGIN,
  validatorsModuleSource,
} from "../../../scripts/compile-validators.js";
import { toCanonicalUtc } from "../../../shared/operations/timestamps.js";
import { parseResource } from "../../../shared/subscriptions/model.js";
import { parseCreateSubscription, parseRenewal, renewed } from "../../../shared/subscriptions/schema.js";
import { createSubscriptionSchema, updateSubscriptionSchema } from "../../../shared/subscriptions/schemas.js";
import * as generated from "../../../shared/subscriptions/validators.generated.js";
import { PROJECT_ROOT } from "../../support/stack.js";
import { refusal } from "../../support/refusal.js";
import { RSA_4160_CERTIFICATE, selfSignedEncryptionCertificate } from "../../support/certificates.js";

const TEAM = "3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f";
const NOW = Date.parse("2026-06-01T00:00:00Z");
const rules = { maxLifetimeMinutes: 4230, allowLoopback: false, now: NOW };
const valid = {
  changeType: "created,updated",
  notificationUrl: "https://hooks.contoso.com/teams",
  resource: `teams/${TEAM}/operations`,
  expirationDateTime: "2026-06-02T00:00:00Z",
};

describe("the generated subscription validators", () => {
  it(`are what the schemas generate (after a schema change, run ${COMMAND})`, () => {
    const committed = readFileSync(join(PROJECT_ROOT, SUBSCRIPTION_VALIDATORS_FILE), "utf8");
    const source = validatorsModuleSource([createSubscriptionSchema, updateSubscriptionSchema], SUBSCRIPTIONS_ORIGIN);
    expect(source === committed, `${SUBSCRIPTION_VALIDATORS_FILE} is out of date: run ${COMMAND}`).toBe(true);
  });

  it("agree with AJV compiling the schemas at run time", () => {
    const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
    const ajv = new Ajv({ allErrors: true, strict: true, coerceTypes: false, useDefaults: false });
    addFormats(ajv, ["date-time"]);
    ajv.addFormat("graph-date-time", { type: "string", validate: (v: string) => toCanonicalUtc(v) !== undefined });
    const runtime = ajv.compile(createSubscriptionSchema);
    for (const body of [
      valid,
      {},
      { ...valid, changeType: "moved" },
      { ...valid, clientState: 5 },
      { ...valid, x: 1 },
    ]) {
      const ok = generated.validateCreateSubscription(body);
      expect({ ok, errors: generated.validateCreateSubscription.errors }).toEqual({
        ok: runtime(body),
        errors: runtime.errors,
      });
    }
  });
});

describe("subscription bodies", () => {
  it("accept Graph's body and keep what was sent", () => {
    const parsed = parseCreateSubscription(
      { ...valid, clientState: "s", "@odata.type": "#microsoft.graph.subscription" },
      rules,
    );
    expect(parsed).toMatchObject({
      changeTypes: ["created", "updated"],
      clientState: "s",
      expirationDateTime: "2026-06-02T00:00:00.0000000Z",
      target: { teamId: TEAM, operationId: null, teamPath: "teams" },
    });
  });

  it("accept deleted, alone or with the others, each once", () => {
    expect(parseCreateSubscription({ ...valid, changeType: "deleted" }, rules).changeTypes).toEqual(["deleted"]);
    expect(parseCreateSubscription({ ...valid, changeType: "created,updated,deleted" }, rules).changeTypes).toEqual([
      "created",
      "updated",
      "deleted",
    ]);
    const twice = refusal(() => parseCreateSubscription({ ...valid, changeType: "deleted,deleted" }, rules));
    expect(twice.details.map((d) => d.target)).toEqual(["changeType"]);
  });

  it("state the maximum lifetime and refuse the past", () => {
    const late = refusal(() =>
      parseCreateSubscription({ ...valid, expirationDateTime: "2026-06-03T22:31:00Z" }, rules),
    );
    expect(late.details[0]).toMatchObject({ target: "expirationDateTime" });
    expect(late.details[0]!.message).toContain("4230 minutes");
    expect(parseRenewal({ expirationDateTime: "2026-06-03T22:30:00Z" }, rules)).toEqual({
      expirationDateTime: "2026-06-03T22:30:00.0000000Z",
    });
    const past = refusal(() => parseRenewal({ expirationDateTime: "2026-05-31T23:59:59Z" }, rules));
    expect(past.details[0]!.target).toBe("expirationDateTime");
  });

  it("allow only the expiration in a renewal, naming what else was sent", () => {
    const error = refusal(() =>
      parseRenewal({ expirationDateTime: valid.expirationDateTime, clientState: "x" }, rules),
    );
    expect(error.details.map((d) => d.target)).toEqual(["clientState"]);
    expect(error.details[0]!.message).toContain("Only expirationDateTime");
  });

  it("name the team and operation of every resource form, and nothing else", () => {
    expect(parseResource(`/teams/${TEAM}/operations/op-1`)).toMatchObject({ teamId: TEAM, operationId: "op-1" });
    expect(parseResource(`me/joinedTeams/${TEAM.toUpperCase()}/operations`)).toMatchObject({
      teamId: TEAM,
      teamPath: "myJoinedTeams",
      reach: { kind: "me" },
    });
    expect(parseResource(`groups/${TEAM}/team/operations`)).toMatchObject({ teamPath: "groupTeam" });
    expect(parseResource(`users/u1/joinedTeams/${TEAM}/operations`)).toMatchObject({
      reach: { kind: "user", userId: "u1" },
    });
    for (const bad of [
      "teams",
      `teams/${TEAM}`,
      `teams/${TEAM}/channels`,
      `teams/${TEAM}/operations?$filter=x`,
      "teams/x/operations",
    ]) {
      expect(parseResource(bad), bad).toBeUndefined();
    }
  });
});

describe("subscriptions with resource data", () => {
  const certificate = selfSignedEncryptionCertificate();
  const now = Date.now();
  const soon = (minutes: number) => new Date(now + minutes * 60_000).toISOString();
  const liveRules = { maxLifetimeMinutes: 4230, allowLoopback: false, now };
  const rich = {
    ...valid,
    expirationDateTime: soon(60),
    includeResourceData: true,
    encryptionCertificate: certificate.base64,
    encryptionCertificateId: "receiver-cert-1",
  };

  it("accept Graph's body: includeResourceData with a certificate of an RSA key and its id", () => {
    expect(parseCreateSubscription(rich, liveRules)).toMatchObject({
      includeResourceData: true,
      encryptionCertificate: certificate.base64,
      encryptionCertificateId: "receiver-cert-1",
    });
    const rsa4096 = selfSignedEncryptionCertificate("rsa:4096");
    expect(parseCreateSubscription({ ...rich, encryptionCertificate: rsa4096.base64 }, liveRules)).toMatchObject({
      encryptionCertificate: rsa4096.base64,
    });
  });

  it("need the certificate and its id, each named", () => {
    const error = refusal(() =>
      parseCreateSubscription({ ...rich, encryptionCertificate: undefined, encryptionCertificateId: null }, liveRules),
    );
    expect(error.details.map((d) => [d.target, d.code])).toEqual([
      ["encryptionCertificate", "requiredProperty"],
      ["encryptionCertificateId", "requiredProperty"],
    ]);
  });

  it.each([
    ["an EC key", selfSignedEncryptionCertificate("ec").base64, "must be RSA"],
    ["a 1,024-bit RSA key", selfSignedEncryptionCertificate("rsa:1024").base64, "2048 to 4096 bits (it has 1024)"],
    ["a 4,160-bit RSA key", RSA_4160_CERTIFICATE, "2048 to 4096 bits (it has 4160)"],
    ["PEM", `-----BEGIN CERTIFICATE-----\n${certificate.base64}\n-----END CERTIFICATE-----`, "without the PEM header"],
    ["not base64", "not a certificate!", "not base64"],
    ["base64 of something else", Buffer.from("hello world").toString("base64"), "not an X.509 certificate"],
  ])("refuse a certificate with %s, saying why", (_, encryptionCertificate, why) => {
    const error = refusal(() => parseCreateSubscription({ ...rich, encryptionCertificate }, liveRules));
    expect(error.details).toEqual([expect.objectContaining({ target: "encryptionCertificate", code: "invalidValue" })]);
    expect(error.details[0]!.message).toContain(why);
  });

  it("refuse an expired certificate", () => {
    const later = Date.now() + 31 * 86_400_000;
    const error = refusal(() =>
      parseCreateSubscription(
        { ...rich, expirationDateTime: new Date(later + 30 * 60_000).toISOString() },
        { ...liveRules, now: later },
      ),
    );
    expect(error.details.map((d) => d.target)).toEqual(["encryptionCertificate"]);
    expect(error.details[0]!.message).toContain("expired");
  });

  it("bound the certificate id to Graph's 128 characters", () => {
    expect(parseCreateSubscription({ ...rich, encryptionCertificateId: "x".repeat(128) }, liveRules)).toBeDefined();
    const error = refusal(() =>
      parseCreateSubscription({ ...rich, encryptionCertificateId: "x".repeat(129) }, liveRules),
    );
    expect(error.details.map((d) => d.target)).toEqual(["encryptionCertificateId"]);
  });

  it("need a lifecycleNotificationUrl past an hour, as Graph does", () => {
    const error = refusal(() => parseCreateSubscription({ ...rich, expirationDateTime: soon(61) }, liveRules));
    expect(error.details).toEqual([
      expect.objectContaining({ target: "lifecycleNotificationUrl", code: "requiredProperty" }),
    ]);
    expect(
      parseCreateSubscription(
        { ...rich, expirationDateTime: soon(61), lifecycleNotificationUrl: "https://hooks.contoso.com/lifecycle" },
        liveRules,
      ).includeResourceData,
    ).toBe(true);
    // A basic subscription has no such rule.
    expect(
      parseCreateSubscription({ ...valid, expirationDateTime: soon(600), includeResourceData: false }, liveRules),
    ).toMatchObject({ includeResourceData: false, encryptionCertificate: null });
  });

  describe("renewal", () => {
    const document = {
      ...parseCreateSubscription(rich, liveRules),
      lifecycleNotificationUrl: "https://hooks.contoso.com/lifecycle",
    } as unknown as Parameters<typeof renewed>[0];

    it("replaces the certificate and its id alongside the expiration (a rotation)", () => {
      const next = selfSignedEncryptionCertificate();
      const renewal = parseRenewal(
        {
          expirationDateTime: soon(120),
          encryptionCertificate: next.base64,
          encryptionCertificateId: "receiver-cert-2",
        },
        liveRules,
      );
      expect(renewed(document, renewal, now)).toMatchObject({
        encryptionCertificate: next.base64,
        encryptionCertificateId: "receiver-cert-2",
        includeResourceData: true,
      });
    });

    it("checks the certificate again, kept or replaced", () => {
      const later = Date.now() + 31 * 86_400_000;
      const kept = parseRenewal(
        { expirationDateTime: new Date(later + 60_000).toISOString() },
        { ...liveRules, now: later },
      );
      expect(refusal(() => renewed(document, kept, later)).details.map((d) => d.target)).toEqual([
        "encryptionCertificate",
      ]);
      const ec = parseRenewal(
        { expirationDateTime: soon(30), encryptionCertificate: selfSignedEncryptionCertificate("ec").base64 },
        liveRules,
      );
      expect(refusal(() => renewed(document, ec, now)).details.map((d) => d.target)).toEqual(["encryptionCertificate"]);
      const removed = parseRenewal({ expirationDateTime: soon(30), encryptionCertificate: null }, liveRules);
      expect(refusal(() => renewed(document, removed, now)).details).toEqual([
        expect.objectContaining({ target: "encryptionCertificate", code: "requiredProperty" }),
      ]);
    });

    it("renews one without a lifecycle URL for an hour at most", () => {
      const withoutLifecycle = { ...document, lifecycleNotificationUrl: null };
      expect(renewed(withoutLifecycle, parseRenewal({ expirationDateTime: soon(59) }, liveRules), now)).toBeDefined();
      const error = refusal(() =>
        renewed(withoutLifecycle, parseRenewal({ expirationDateTime: soon(61) }, liveRules), now),
      );
      expect(error.details.map((d) => d.target)).toEqual(["expirationDateTime"]);
      expect(error.details[0]!.message).toContain("at most 60 minutes");
    });
  });
});
