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
} from "../../scripts/compile-validators.js";
import { toCanonicalUtc } from "../../shared/operations/timestamps.js";
import { parseResource } from "../../shared/subscriptions/model.js";
import { parseCreateSubscription, parseRenewal } from "../../shared/subscriptions/schema.js";
import { createSubscriptionSchema, updateSubscriptionSchema } from "../../shared/subscriptions/schemas.js";
import * as generated from "../../shared/subscriptions/validators.generated.js";
import { PROJECT_ROOT } from "../support/stack.js";
import { refusal } from "../support/refusal.js";

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
    expect(parseRenewal({ expirationDateTime: "2026-06-03T22:30:00Z" }, rules)).toBe("2026-06-03T22:30:00.0000000Z");
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
