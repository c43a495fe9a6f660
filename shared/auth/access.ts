/**
 * Who the caller is and what it may do. Delegated tokens (a user through an
 * app) carry scopes in `scp` and act only on teams in their `groups` claim;
 * application tokens carry roles in `roles`, no `scp`, and act on any team of
 * their tenant. A user's app roles never give tenant-wide reach.
 */
import type { JWTPayload } from "jose";
import { graphError } from "../http/graphError.js";
import type { CreatedBy } from "../operations/model.js";

export const PERMISSIONS = {
  delegated: { read: "TeamsAsyncOperation.Read", write: "TeamsAsyncOperation.ReadWrite" },
  application: { read: "TeamsAsyncOperation.Read.All", write: "TeamsAsyncOperation.ReadWrite.All" },
} as const;

export type AccessLevel = "read" | "write";

interface CallerBase {
  readonly tenantId: string;
}
export interface DelegatedCaller extends CallerBase {
  readonly kind: "delegated";
  readonly userId: string | undefined;
  readonly appId: string | undefined;
  readonly scopes: ReadonlySet<string>;
  /** The groups claim; `overage` when Entra ID moved it out of the token. */
  readonly groups: ReadonlySet<string> | "overage";
}
export interface ApplicationCaller extends CallerBase {
  readonly kind: "application";
  readonly appId: string | undefined;
  readonly servicePrincipalId: string | undefined;
  readonly roles: ReadonlySet<string>;
}
export type Caller = DelegatedCaller | ApplicationCaller;

const forbidden = (message: string) => graphError("forbidden", message);

function words(value: unknown): Set<string> {
  return new Set(typeof value === "string" ? value.split(" ").filter(Boolean) : []);
}

function strings(value: unknown): Set<string> {
  return new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

const { delegated: D, application: A } = PERMISSIONS;

/**
 * Delegated or application? Entra ID puts delegated permissions in `scp` and
 * application permissions in `roles`, but `roles` alone does not make an
 * application token: app roles assigned to a user appear in the user's
 * tokens too, with or without `scp`. So:
 * - `scp` present: delegated, whatever else the token says; `roles` are ignored,
 *   so a user never gains tenant-wide reach from app roles;
 * - no `scp`: an application token only when it says so, with `idtyp: "app"`
 *   (an optional claim) or, when `idtyp` is absent, with `oid` equal to `sub`
 *   (true of app-only tokens only: a user's `sub` is pairwise per application);
 * - anything else has no usable permission: 403 naming what it needs.
 */
export function callerFromClaims(claims: JWTPayload & { tid: string }): Caller {
  const appId = optionalString(claims.azp) ?? optionalString(claims.appid);
  if (claims.scp !== undefined) {
    const claimNames = claims._claim_names;
    const overage =
      claims.groups === undefined &&
      ((typeof claimNames === "object" && claimNames !== null && "groups" in claimNames) || claims.hasgroups === true);
    return {
      kind: "delegated",
      tenantId: claims.tid,
      userId: optionalString(claims.oid),
      appId,
      scopes: words(claims.scp),
      groups: overage ? "overage" : new Set([...strings(claims.groups)].map((g) => g.toLowerCase())),
    };
  }
  const oid = optionalString(claims.oid);
  const appOnly = claims.idtyp === "app" || (claims.idtyp === undefined && oid !== undefined && oid === claims.sub);
  if (appOnly) {
    return { kind: "application", tenantId: claims.tid, appId, servicePrincipalId: oid, roles: strings(claims.roles) };
  }
  if (claims.roles !== undefined || claims.idtyp === "user") {
    throw forbidden(
      `The token is a user token without delegated permissions (scp); app roles assigned to a user give no access. It needs ${D.read} or ${D.write} (scp).`,
    );
  }
  throw forbidden(
    `The token has no permission for this API: a user token needs ${D.read} or ${D.write} (scp), an application token ${A.read} or ${A.write} (roles).`,
  );
}

/** Refuses a caller without the permission an access level needs, naming what is missing. */
export function requirePermission(caller: Caller, level: AccessLevel): void {
  if (caller.kind === "delegated") {
    const { read, write } = PERMISSIONS.delegated;
    const ok = level === "write" ? caller.scopes.has(write) : caller.scopes.has(read) || caller.scopes.has(write);
    if (!ok) {
      throw forbidden(
        `The token lacks the delegated permission ${level === "write" ? write : `${read} or ${write}`} (scp).`,
      );
    }
    return;
  }
  const { read, write } = PERMISSIONS.application;
  const ok = level === "write" ? caller.roles.has(write) : caller.roles.has(read) || caller.roles.has(write);
  if (!ok) {
    throw forbidden(
      `The token lacks the application permission ${level === "write" ? write : `${read} or ${write}`} (roles).`,
    );
  }
}

/**
 * How a route reaches the team: directly (`teams/{id}`, `groups/{id}/team`), as the signed-in user's
 * (`/me/...`), or as a named user's (`/users/{userId}/joinedTeams/...`). `noun` words the refusals.
 */
export type TeamReach =
  | { readonly kind: "team" | "me"; readonly noun: "team" | "group" }
  | { readonly kind: "user"; readonly userId: string };

/**
 * Refuses a caller that may not act on the team. Delegated callers must be members (the token's `groups`
 * claim); application callers act on any team of their tenant, but have no signed-in user, so `/me` routes
 * refuse them. A user's joined teams can be checked only for the signed-in user: the token carries that
 * user's groups and nobody else's, so for another user (or an application caller) membership cannot be
 * known, and the refusal says so rather than guess.
 */
export function requireTeamAccess(caller: Caller, teamId: string, reach: TeamReach): void {
  if (caller.kind === "application") {
    if (reach.kind === "me")
      throw forbidden("The /me routes need a delegated (user) token; application tokens have no signed-in user.");
    if (reach.kind === "user") {
      throw forbidden(
        "Whether a user has joined a team cannot be known from an application token (it carries no user's memberships); use /teams/{teamId}/operations.",
      );
    }
    return;
  }
  if (reach.kind === "user" && reach.userId.toLowerCase() !== caller.userId?.toLowerCase()) {
    throw forbidden(
      "Only the signed-in user's own joined teams can be checked (the token carries that user's groups only), so whether this user has joined the team cannot be known; use /me/joinedTeams/{teamId}/operations or your own user id (oid).",
    );
  }
  if (caller.groups === "overage") {
    throw forbidden(
      "The token's groups claim overflowed (group overage), so team membership cannot be checked; configure the app registration to emit groups assigned to the application.",
    );
  }
  if (!caller.groups.has(teamId.toLowerCase())) {
    const noun = reach.kind === "user" ? "team" : reach.noun;
    throw forbidden(`The signed-in user is not a member of this ${noun}.`);
  }
}

export function createdBy(caller: Caller): CreatedBy {
  return caller.kind === "delegated"
    ? { kind: "user", objectId: caller.userId, appId: caller.appId }
    : { kind: "application", objectId: caller.servicePrincipalId, appId: caller.appId };
}
