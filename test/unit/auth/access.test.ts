/**
 * The access layer without HTTP: delegated versus application callers, and the permission and team checks with the
 * messages that name what is missing.
 */
import { describe, expect, it } from "vitest";
import {
  callerFromClaims,
  requirePermission,
  requireTeamAccess,
  type AccessLevel,
  type Caller,
  type TeamReach,
} from "../../../shared/auth/access.js";
import { refusal } from "../../support/refusal.js";

const TID = "aaaaaaaa-0000-4000-8000-00000000000a";
const TEAM = "3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f";
const OTHER_TEAM = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const TEAM_ROUTE: TeamReach = { kind: "team", noun: "team" };
const ME_ROUTE: TeamReach = { kind: "me", noun: "group" };

const user = (claims: Record<string, unknown> = {}) =>
  callerFromClaims({
    tid: TID,
    oid: "u1",
    sub: "pairwise",
    scp: "TeamsAsyncOperation.ReadWrite",
    groups: [TEAM],
    ...claims,
  });
const app = (claims: Record<string, unknown> = {}) =>
  callerFromClaims({ tid: TID, oid: "sp1", sub: "sp1", roles: ["TeamsAsyncOperation.ReadWrite.All"], ...claims });

describe("delegated or application", () => {
  it("scp makes a delegated caller, whatever else the token carries", () => {
    const caller = user({ roles: ["TeamsAsyncOperation.ReadWrite.All"], idtyp: "app", sub: "u1" });
    expect(caller.kind).toBe("delegated");
    expect(() => requireTeamAccess(caller, OTHER_TEAM, TEAM_ROUTE)).toThrow(/not a member of this team/);
  });

  it("no scp and sub = oid (no idtyp) is an application", () => {
    expect(app()).toMatchObject({ kind: "application", servicePrincipalId: "sp1", tenantId: TID });
  });

  it("no scp and idtyp: app is an application, even if sub differs", () => {
    expect(app({ sub: "other", idtyp: "app" }).kind).toBe("application");
  });

  it("roles without scp on a user token (sub differs from oid) do not make an application: 403", () => {
    expect(() => app({ sub: "pairwise" })).toThrow(/user token without delegated permissions/);
  });

  it("idtyp: user without scp is refused even when sub = oid", () => {
    expect(() => app({ idtyp: "user" })).toThrow(/user token without delegated permissions/);
  });

  it("neither scp nor roles nor an application marker: 403 naming both kinds of permission", () => {
    const error = refusal(() => callerFromClaims({ tid: TID, oid: "u1", sub: "pairwise" }));
    expect(error.status).toBe(403);
    expect(error.code).toBe("accessDenied");
    expect(error.message).toMatch(
      /TeamsAsyncOperation\.ReadWrite \(scp\).*TeamsAsyncOperation\.ReadWrite\.All \(roles\)/,
    );
  });

  it("group overage: _claim_names.groups or hasgroups, without groups", () => {
    expect(user({ groups: undefined, _claim_names: { groups: "src1" } })).toMatchObject({ groups: "overage" });
    expect(user({ groups: undefined, hasgroups: true })).toMatchObject({ groups: "overage" });
    expect(user({ _claim_names: { groups: "src1" } })).toMatchObject({ groups: new Set([TEAM]) });
  });

  it("groups are compared without regard to case; non-strings are ignored", () => {
    const caller = user({ groups: [TEAM.toUpperCase(), 42, null] });
    expect(() => requireTeamAccess(caller, TEAM, TEAM_ROUTE)).not.toThrow();
  });
});

describe("permissions", () => {
  const cases: Array<[string, () => Caller, AccessLevel, RegExp | null]> = [
    ["delegated ReadWrite writes", () => user(), "write", null],
    ["delegated ReadWrite reads", () => user(), "read", null],
    ["delegated Read reads", () => user({ scp: "TeamsAsyncOperation.Read" }), "read", null],
    [
      "delegated Read cannot write",
      () => user({ scp: "TeamsAsyncOperation.Read" }),
      "write",
      /delegated permission TeamsAsyncOperation\.ReadWrite \(scp\)/,
    ],
    [
      "delegated without our scopes cannot read",
      () => user({ scp: "User.Read" }),
      "read",
      /TeamsAsyncOperation\.Read or TeamsAsyncOperation\.ReadWrite \(scp\)/,
    ],
    ["delegated scp must be whole words", () => user({ scp: "TeamsAsyncOperation.ReadWriteX" }), "read", /scp/],
    [
      "delegated app roles count for nothing",
      () => user({ scp: "User.Read", roles: ["TeamsAsyncOperation.ReadWrite.All"] }),
      "write",
      /scp/,
    ],
    ["application ReadWrite.All writes", () => app(), "write", null],
    ["application Read.All reads", () => app({ roles: ["TeamsAsyncOperation.Read.All"] }), "read", null],
    [
      "application Read.All cannot write",
      () => app({ roles: ["TeamsAsyncOperation.Read.All"] }),
      "write",
      /application permission TeamsAsyncOperation\.ReadWrite\.All \(roles\)/,
    ],
    [
      "application delegated-style names count for nothing",
      () => app({ roles: ["TeamsAsyncOperation.ReadWrite"] }),
      "read",
      /roles/,
    ],
    [
      "application roles as a string are not a list",
      () => app({ roles: "TeamsAsyncOperation.ReadWrite.All" }),
      "write",
      /roles/,
    ],
  ];
  it.each(cases)("%s", (_name, caller, level, why) => {
    if (why === null) expect(() => requirePermission(caller(), level)).not.toThrow();
    else {
      const error = refusal(() => requirePermission(caller(), level));
      expect(error.status).toBe(403);
      expect(error.message).toMatch(why);
    }
  });
});

describe("teams", () => {
  it("an application acts on any team of its tenant, but not through /me", () => {
    expect(() => requireTeamAccess(app(), OTHER_TEAM, TEAM_ROUTE)).not.toThrow();
    expect(refusal(() => requireTeamAccess(app(), TEAM, ME_ROUTE)).message).toMatch(/\/me routes need a delegated/);
  });

  it("a delegated caller acts only on its groups", () => {
    expect(() => requireTeamAccess(user(), TEAM, ME_ROUTE)).not.toThrow();
    expect(refusal(() => requireTeamAccess(user(), OTHER_TEAM, ME_ROUTE)).message).toMatch(
      /not a member of this group/,
    );
  });

  it("a user's joined teams answer only for the signed-in user; otherwise membership cannot be known", () => {
    const own: TeamReach = { kind: "user", userId: "U1" };
    expect(() => requireTeamAccess(user(), TEAM, own)).not.toThrow();
    expect(refusal(() => requireTeamAccess(user(), OTHER_TEAM, own)).message).toMatch(/not a member of this team/);
    const other = refusal(() => requireTeamAccess(user(), TEAM, { kind: "user", userId: "u2" }));
    expect(other.status).toBe(403);
    expect(other.message).toMatch(/cannot be known/);
    const application = refusal(() => requireTeamAccess(app(), TEAM, { kind: "user", userId: "u1" }));
    expect(application.status).toBe(403);
    expect(application.message).toMatch(/cannot be known from an application token/);
  });

  it("group overage is a 403 that says so", () => {
    const error = refusal(() =>
      requireTeamAccess(user({ groups: undefined, _claim_names: { groups: "s" } }), TEAM, TEAM_ROUTE),
    );
    expect(error.status).toBe(403);
    expect(error.message).toMatch(/group overage/);
  });
});
