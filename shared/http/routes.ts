/**
 * Registers the API's HTTP functions and remembers which methods each route
 * template answers, so a request for a known path with another method gets
 * Graph's 405 with `Allow`, and an unknown path Graph's 404, instead of the
 * host's empty 404. All HTTP functions are anonymous at the Functions level:
 * the pipeline verifies bearer tokens itself.
 */
import { app, type HttpHandler, type HttpMethod, type HttpResponseInit } from "@azure/functions";
import type { AccessLevel } from "../auth/access.js";
import { graphRoute, type ApiRequest } from "./pipeline.js";

const templates: Array<{ pattern: RegExp; methods: readonly HttpMethod[] }> = [];

function compile(route: string): RegExp {
  const parts = route
    .split("/")
    .map((segment) => (/^\{[^}]+\}$/.test(segment) ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  return new RegExp(`^${parts.join("/")}/?$`, "i");
}

export function httpRoute(
  name: string,
  options: { readonly methods: readonly HttpMethod[]; readonly route: string; readonly handler: HttpHandler },
): void {
  templates.push({ pattern: compile(options.route), methods: options.methods });
  app.http(name, {
    methods: [...options.methods],
    authLevel: "anonymous",
    route: options.route,
    handler: options.handler,
  });
}

/** The methods a path (below the route prefix) answers, or undefined when no route has its shape. */
export function allowedMethods(path: string): HttpMethod[] | undefined {
  const methods = templates.filter((t) => t.pattern.test(path)).flatMap((t) => t.methods);
  return methods.length > 0 ? [...new Set(methods)].sort() : undefined;
}

/**
 * Registers an operations handler twice: on `teams/{teamId}/<path>` and on its
 * `me/joinedGroups/{groupId}/team/<path>` twin (delegated callers, team = group).
 */
export function teamRoutes(
  names: { readonly teams: string; readonly me: string },
  options: {
    readonly method: HttpMethod;
    readonly path: string;
    readonly access: AccessLevel;
    readonly handler: (api: ApiRequest) => Promise<HttpResponseInit>;
  },
): void {
  const { method, path, access, handler } = options;
  httpRoute(names.teams, {
    methods: [method],
    route: `teams/{teamId}/${path}`,
    handler: graphRoute({ access, viaMe: false }, handler),
  });
  httpRoute(names.me, {
    methods: [method],
    route: `me/joinedGroups/{groupId}/team/${path}`,
    handler: graphRoute({ access, viaMe: true }, handler),
  });
}
