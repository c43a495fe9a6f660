/**
 * Registers the API's HTTP functions and keeps the table of what was
 * registered: which methods each route template answers (so a known path
 * with another method gets Graph's 405 with `Allow`, and an unknown path
 * Graph's 404, instead of the host's empty 404), how to call a route's handler
 * for a path that reaches it in OData key syntax (`fallback.ts`), and what
 * each route is (for the OpenAPI description). All HTTP functions are
 * anonymous at the Functions level: the pipeline verifies bearer tokens itself.
 */
import {
  app,
  type HttpMethod,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import type { AccessLevel } from "../auth/access.js";
import { graphRoute, type ApiRequest } from "./pipeline.js";
import { compileRouteTemplate, routeValues } from "./routeTemplate.js";
import { TEAM_PATH_NAMES, TEAM_PATHS, type TeamPathName } from "./teamPaths.js";

/** A handler that can be given its route parameters, as the fallback does for key-syntax paths. */
export type RouteHandler = (
  request: HttpRequest,
  context: InvocationContext,
  params?: Readonly<Record<string, string>>,
) => Promise<HttpResponseInit>;

/** What an operations route does, for the OpenAPI description. */
export type OperationsAction = "list" | "create" | "count" | "get" | "update" | "delete";

export interface RouteInfo {
  readonly summary: string;
  /** Anonymous routes need no token (metadata, health). */
  readonly anonymous?: boolean;
  /** Set on the routes of a team's operations. */
  readonly operations?: {
    readonly action: OperationsAction;
    readonly access: AccessLevel;
    readonly teamPath: TeamPathName;
    /** The `$ref` form of the collection POST (Graph's generated reference for creating operations names it). */
    readonly alias?: boolean;
  };
  /** What a 200 carries for the routes outside the operations API. */
  readonly produces?: "json" | "xml";
  /** The subscription routes' own OpenAPI operation parts (tags, request body, responses). */
  readonly openApi?: Readonly<Record<string, unknown>>;
}

export interface RegisteredRoute {
  readonly name: string;
  /** The route template below the route prefix, as registered with the host. */
  readonly route: string;
  readonly methods: readonly HttpMethod[];
  readonly info: RouteInfo;
  readonly handler: RouteHandler;
  /** Matches `/` and a path below the route prefix. */
  readonly pattern: RegExp;
  readonly params: readonly string[];
  /** ASP.NET routing's order: per segment, literals before parameters. */
  readonly rank: string;
}

const registered: RegisteredRoute[] = [];

/**
 * Compiles a template of literal and `{name}` segments (`routeTemplate.ts`), the only kinds the API's routes use: an
 * optional, constrained or catch-all parameter, or a brace inside a literal, is refused.
 */
function compile(route: string): Pick<RegisteredRoute, "pattern" | "params" | "rank"> {
  const compiled = compileRouteTemplate(route);
  compiled.segments.forEach((segment, i) => {
    const plain =
      segment.kind === "literal"
        ? !/[{}]/.test(segment.text)
        : !segment.optional && !segment.catchAll && !segment.constrained;
    if (!plain) throw new Error(`Route segment '${route.split("/")[i]}' is not a literal or a whole parameter.`);
  });
  return { pattern: compiled.pattern, params: compiled.params, rank: compiled.rank };
}

export function httpRoute(
  name: string,
  options: {
    readonly methods: readonly HttpMethod[];
    readonly route: string;
    readonly handler: RouteHandler;
    readonly info: RouteInfo;
  },
): void {
  registered.push({ name, ...options, ...compile(options.route) });
  registered.sort((a, b) => a.rank.localeCompare(b.rank));
  app.http(name, {
    methods: [...options.methods],
    authLevel: "anonymous",
    route: options.route,
    handler: options.handler,
  });
}

/** Every HTTP route registered so far, in matching order (the fallback's catch-all is not one of them). */
export function registeredRoutes(): readonly RegisteredRoute[] {
  return registered;
}

/** The route that answers a method on a path (below the route prefix), with its parameters. */
export function matchRoute(
  path: string,
  method: string,
): { route: RegisteredRoute; params: Record<string, string> } | undefined {
  const rooted = `/${path}`;
  for (const route of registered) {
    if (!route.methods.includes(method.toUpperCase() as HttpMethod)) continue;
    const match = route.pattern.exec(rooted);
    if (match) return { route, params: routeValues(route, match) };
  }
  return undefined;
}

/** The methods a path (below the route prefix) answers, or undefined when no route has its shape. */
export function allowedMethods(path: string): HttpMethod[] | undefined {
  const rooted = `/${path}`;
  const methods = registered.filter((t) => t.pattern.test(rooted)).flatMap((t) => t.methods);
  return methods.length > 0 ? [...new Set(methods)].sort() : undefined;
}

/** `getOperation` with `MyJoinedTeam` → `getMyJoinedTeamOperation`. */
function functionName(name: string, infix: string): string {
  return name.replace(/^[a-z]+/, (verb) => `${verb}${infix}`);
}

/**
 * Registers an operations handler under every way Graph reaches a team's operations (`teamPaths.ts`):
 * `teams/{teamId}/<path>`, `me/joinedGroups/{groupId}/team/<path>`, `me/joinedTeams/{teamId}/<path>`,
 * `groups/{groupId}/team/<path>` and `users/{userId}/joinedTeams/{teamId}/<path>`, or only under `only`.
 */
export function teamRoutes(
  name: string,
  options: {
    readonly method: HttpMethod;
    readonly path: string;
    readonly access: AccessLevel;
    readonly action: OperationsAction;
    readonly summary: string;
    readonly alias?: boolean;
    readonly only?: readonly TeamPathName[];
    readonly handler: (api: ApiRequest) => Promise<HttpResponseInit>;
  },
): void {
  const { method, path, access, handler } = options;
  for (const teamPath of options.only ?? TEAM_PATH_NAMES) {
    httpRoute(functionName(name, TEAM_PATHS[teamPath].nameInfix), {
      methods: [method],
      route: `${TEAM_PATHS[teamPath].prefix}/${path}`,
      handler: graphRoute({ access, teamPath }, handler),
      info: {
        summary: options.summary,
        operations: { action: options.action, access, teamPath, ...(options.alias ? { alias: true } : {}) },
      },
    });
  }
}
