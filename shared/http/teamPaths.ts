/**
 * The ways Microsoft Graph v1.0 reaches a team's operations, each a route
 * prefix with the parameter that names the team and the membership rule that
 * applies. Every operations route is registered once under each prefix
 * (`routes.ts`), so all of them answer with the same handlers and rules.
 */
import type { TeamReach } from "../auth/access.js";

export interface TeamPath {
  /** The route template up to the team, below the route prefix. */
  readonly prefix: string;
  /** The route parameter that holds the team's id (a group's id is its team's id). */
  readonly teamParam: "teamId" | "groupId";
  /** What goes after the verb of a function name: `get` + `MyJoinedTeam` + `Operation`. */
  readonly nameInfix: string;
  /** How the caller must be related to the team, from the route's parameters. */
  reach(params: Readonly<Record<string, string | undefined>>): TeamReach;
  /** One line for the OpenAPI description and the docs. */
  readonly summary: string;
  /** What Graph's OpenAPI names the operations of this path by (`teams` + `.ListOperations`), and its `$count`. */
  readonly operationIds: { readonly prefix: string; readonly count: string };
}

export const TEAM_PATHS = {
  teams: {
    prefix: "teams/{teamId}",
    teamParam: "teamId",
    nameInfix: "",
    reach: () => ({ kind: "team", noun: "team" }),
    summary: "A team's operations.",
    operationIds: { prefix: "teams", count: "teams.operations.GetCount-66af" },
  },
  myJoinedGroups: {
    prefix: "me/joinedGroups/{groupId}/team",
    teamParam: "groupId",
    nameInfix: "My",
    reach: () => ({ kind: "me", noun: "group" }),
    summary: "The operations of the team of a group the signed-in user belongs to (delegated tokens only).",
    // Not a Graph v1.0 path: named in the same pattern.
    operationIds: { prefix: "me.joinedGroups.team", count: "me.joinedGroups.team.operations.GetCount" },
  },
  myJoinedTeams: {
    prefix: "me/joinedTeams/{teamId}",
    teamParam: "teamId",
    nameInfix: "MyJoinedTeam",
    reach: () => ({ kind: "me", noun: "team" }),
    summary: "The operations of a team the signed-in user has joined (delegated tokens only).",
    operationIds: { prefix: "me.joinedTeams", count: "me.joinedTeams.operations.GetCount-e702" },
  },
  groupTeam: {
    prefix: "groups/{groupId}/team",
    teamParam: "groupId",
    nameInfix: "GroupTeam",
    reach: () => ({ kind: "team", noun: "group" }),
    summary: "The operations of a group's team.",
    operationIds: { prefix: "groups.team", count: "groups.team.operations.GetCount-6921" },
  },
  userJoinedTeams: {
    prefix: "users/{userId}/joinedTeams/{teamId}",
    teamParam: "teamId",
    nameInfix: "UserJoinedTeam",
    reach: (params) => ({ kind: "user", userId: params.userId ?? "" }),
    summary:
      "The operations of a team a user has joined: only the signed-in user's own (a delegated token whose user is userId).",
    operationIds: { prefix: "users.joinedTeams", count: "users.joinedTeams.operations.GetCount-5268" },
  },
} as const satisfies Record<string, TeamPath>;

export type TeamPathName = keyof typeof TEAM_PATHS;

export const TEAM_PATH_NAMES = Object.keys(TEAM_PATHS) as TeamPathName[];
