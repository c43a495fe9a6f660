import { describe, expect, it } from "vitest";
import { graphErrorOf } from "../../../shared/http/errorMapping.js";
import type { GraphError } from "../../../shared/http/graphError.js";
import type { OperationStatus } from "../../../shared/operations/model.js";
import {
  applyUpdate,
  newOperationDocument,
  repeatableOperationId,
  TRANSITIONS,
} from "../../../shared/operations/rules.js";

const base = newOperationDocument(
  { operationType: "cloneTeam", id: "op" },
  {
    tenantId: "t",
    teamId: "team",
    createdBy: { kind: "user", objectId: "u", appId: "a" },
    ttlSeconds: 60,
    now: new Date("2026-01-01T00:00:00Z"),
  },
);
const ctx = { ttlSeconds: 60, now: new Date("2026-01-02T00:00:00Z") };
const at = (status: OperationStatus) => ({
  ...base,
  status,
  error: status === "failed" ? { code: "x", message: null } : null,
});

function statusOf(fn: () => unknown): number | "ok" {
  try {
    fn();
    return "ok";
  } catch (error) {
    // The status the API answers with for the rule's error.
    return (graphErrorOf(error) as GraphError).status;
  }
}

describe("state rules", () => {
  const statuses: Array<Exclude<OperationStatus, "unknownFutureValue">> = [
    "invalid",
    "notStarted",
    "inProgress",
    "succeeded",
    "failed",
  ];
  for (const from of statuses) {
    for (const to of statuses) {
      const allowed = from === to ? "no change" : TRANSITIONS[from].includes(to) ? "allowed" : "refused";
      it(`${from} -> ${to}: ${allowed}`, () => {
        const changes = to === "failed" ? { status: to, error: { code: "x" } } : { status: to };
        const outcome = statusOf(() => applyUpdate(at(from), changes, ctx));
        if (allowed === "refused") expect(outcome).toBe(409);
        else expect(outcome).toBe("ok");
      });
    }
  }

  it("sets lastActionDateTime on change, the TTL on finish, and reports no-ops", () => {
    const started = applyUpdate(base, { status: "inProgress" }, ctx);
    expect(started.changed).toBe(true);
    expect(started.document.lastActionDateTime).toBe("2026-01-02T00:00:00.0000000Z");
    expect(started.document.ttl).toBeUndefined();
    const done = applyUpdate(started.document, { status: "succeeded" }, ctx);
    expect(done.document.ttl).toBe(60);
    expect(applyUpdate(done.document, { status: "succeeded" }, ctx)).toEqual({
      document: done.document,
      changed: false,
    });
  });

  it("derives one stable id per repeatable request", () => {
    const id = repeatableOperationId("t", "team", "req-1");
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(repeatableOperationId("t", "team", "req-1")).toBe(id);
    expect(repeatableOperationId("t2", "team", "req-1")).not.toBe(id);
  });
});

describe("read-modify-write", () => {
  it("accepts read-only properties sent back with their current values, at the precision of a Date", () => {
    const running = { ...base, status: "inProgress" as const };
    const unchanged = { id: "op", operationType: "cloneTeam", createdDateTime: "2026-01-01T00:00:00.000Z" };
    const result = applyUpdate(running, { status: "succeeded", unchanged }, ctx);
    expect(result.changed).toBe(true);
    expect(result.document.status).toBe("succeeded");
  });

  it("refuses each read-only property with another value, naming it", () => {
    const error = (() => {
      try {
        applyUpdate(base, { unchanged: { id: "other", createdDateTime: "2026-01-01T00:00:00.001Z" } }, ctx);
      } catch (e) {
        return graphErrorOf(e) as GraphError;
      }
      return undefined;
    })();
    expect(error?.status).toBe(400);
    expect(error?.details.map((d) => `${d.code}:${d.target}`)).toEqual([
      "readOnlyProperty:id",
      "readOnlyProperty:createdDateTime",
    ]);
  });

  it("takes a lastActionDateTime naming the current one as no change, so an unchanged finished operation is a no-op", () => {
    const done = { ...at("succeeded"), lastActionDateTime: "2026-01-01T00:00:00.1234567Z" };
    const echo = { lastActionDateTime: "2026-01-01T00:00:00.123Z", attemptsCount: 0, status: "succeeded" as const };
    expect(applyUpdate(done, echo, ctx)).toEqual({ document: done, changed: false });
  });
});

describe("a client's lastActionDateTime", () => {
  const created = { tenantId: "t", teamId: "team", createdBy: base.createdBy, ttlSeconds: 60 };
  const now = new Date("2026-01-01T00:00:00Z");
  const create = (lastActionDateTime: string) =>
    newOperationDocument({ operationType: "cloneTeam", lastActionDateTime }, { ...created, now });
  const update = (lastActionDateTime: string) => applyUpdate(base, { status: "inProgress", lastActionDateTime }, ctx);

  it.each([
    [
      "Graph's documented example, years before the operation",
      "2016-12-31T23:56:44.8542569+03:00",
      "2016-12-31T20:56:44.8542569Z",
    ],
    ["a tick before createdDateTime", "2025-12-31T23:59:59.9999999Z", "2025-12-31T23:59:59.9999999Z"],
    ["an hour ahead of the server's clock", "2026-01-02T01:00:00+01:00", "2026-01-02T00:00:00.0000000Z"],
    ["the last instant the representation holds", "9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59.9999999Z"],
  ])("%s is kept as given, on create and on update", (_, sent, stored) => {
    expect(create(sent).lastActionDateTime).toBe(stored);
    expect(update(sent).document.lastActionDateTime).toBe(stored);
  });
});

describe("what the server owns", () => {
  it("counts revisions from 1 at create, one more at every write, and records the server's time of each", () => {
    expect(base.revision).toBe(1);
    expect(base.changedDateTime).toBe("2026-01-01T00:00:00.0000000Z");
    const started = applyUpdate(base, { status: "inProgress", lastActionDateTime: "2016-01-01T00:00:00Z" }, ctx);
    expect(started.document).toMatchObject({ revision: 2, changedDateTime: "2026-01-02T00:00:00.0000000Z" });
    const later = { ttlSeconds: 60, now: new Date("2026-01-03T00:00:00Z") };
    const back = applyUpdate(started.document, { lastActionDateTime: base.createdDateTime }, later);
    expect(back.document).toMatchObject({ revision: 3, lastActionDateTime: base.createdDateTime });
    expect(back.document.changedDateTime).toBe("2026-01-03T00:00:00.0000000Z");
  });

  it("leaves the revision alone when nothing changes", () => {
    expect(applyUpdate(base, { status: "notStarted" }, ctx)).toEqual({ document: base, changed: false });
  });
});

describe("error and status", () => {
  const failing = (error: { code?: string | null; message?: string | null } | null) =>
    statusOf(() => applyUpdate(at("inProgress"), { status: "failed", error }, ctx));

  it("takes an error with only a code or only a message, and an empty one as no error", () => {
    const onlyMessage = applyUpdate(at("inProgress"), { error: { message: "retrying" } }, ctx);
    expect(onlyMessage.document.error).toEqual({ code: null, message: "retrying" });
    const onlyCode = applyUpdate(at("inProgress"), { error: { code: "throttled", message: null } }, ctx);
    expect(onlyCode.document.error).toEqual({ code: "throttled", message: null });
    expect(applyUpdate(onlyCode.document, { error: {} }, ctx).document.error).toBeNull();
  });

  it("needs a failed operation's error to say something", () => {
    expect(failing({ message: "the source team was deleted" })).toBe("ok");
    expect(failing({ code: "sourceTeamNotFound" })).toBe("ok");
    for (const error of [null, {}, { code: null, message: null }, { code: "", message: "" }]) {
      expect(failing(error)).toBe(400);
    }
  });

  it("keeps an error sent with success, and changes only what a PATCH names", () => {
    const retried = { code: "attempt1", message: "timed out; retried" };
    const created = newOperationDocument(
      { operationType: "cloneTeam", status: "succeeded", attemptsCount: 2, error: retried },
      { tenantId: "t", teamId: "team", createdBy: base.createdBy, ttlSeconds: 60 },
    );
    expect(created.error).toEqual(retried);
    const running = applyUpdate(at("inProgress"), { error: retried }, ctx).document;
    expect(applyUpdate(running, { status: "succeeded" }, ctx).document.error).toEqual(retried);
  });
});
