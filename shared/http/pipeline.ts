/**
 * The one path every API request takes: request ids, token verification,
 * permission and team checks, then the handler; any failure becomes a Graph
 * error (the store's and the domain's through `errorMapping.ts`; anything
 * unknown is a 500). Function files wrap their handlers with `graphRoute` and
 * do nothing else.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import {
  callerFromClaims,
  requirePermission,
  requireTeamAccess,
  type AccessLevel,
  type Caller,
} from "../auth/access.js";
import { createAuthenticator, type Authenticator } from "../auth/tokens.js";
import { config, type AppConfig } from "../config.js";
import { GUID } from "../ids.js";
import { describeCauses, telemetryScope, trackException, trackRejected, withTelemetryScope } from "../telemetry.js";
import { graphErrorOf } from "./errorMapping.js";
import { badRequest, graphError, type GraphError } from "./graphError.js";
import { TEAM_PATHS, type TeamPathName } from "./teamPaths.js";
import { errorResponse } from "./responses.js";
import { wireContext, type WireContext } from "./wireContext.js";

export interface RouteOptions {
  /** What the route needs: `read` or `write` permission. */
  readonly access: AccessLevel;
  /** How the route reaches the team (`teams/{teamId}`, `me/joinedTeams/{teamId}`, ...): its membership rule. */
  readonly teamPath: TeamPathName;
}

export interface ApiRequest {
  readonly request: HttpRequest;
  readonly context: InvocationContext;
  readonly wire: WireContext;
  readonly caller: Caller;
  /** The route's parameters (from the host, or from a key-syntax path the fallback resolved). */
  readonly params: Readonly<Record<string, string>>;
  /** The team the route addresses, lower-cased GUID. */
  readonly teamId: string;
  readonly config: AppConfig;
}

let authenticator: Authenticator | undefined;

/** One authenticator (and so one cached key set) per process. */
function authenticate(cfg: AppConfig): Authenticator {
  authenticator ??= createAuthenticator(cfg.auth);
  return authenticator;
}

/** Records and logs a rejection: its status, code and the names it concerns, never the request's content. */
function reportRejection(error: GraphError, context: InvocationContext): void {
  const targets = [...new Set([error.target, ...error.details.map((d) => d.target)].filter((t): t is string => !!t))];
  const line = `${error.status} ${error.code}${targets.length ? ` (${targets.join(", ")})` : ""}: ${error.message}`;
  if (error.status >= 500) {
    // What the store (or the key service) said: status, substatus, activity id, request charge.
    const causes = describeCauses(error);
    context.warn(causes ? `${line}; ${causes}` : line);
    trackException(error);
  } else {
    context.info(line);
  }
  trackRejected(error.status, error.code, targets);
}

/** Runs a handler with its telemetry scope, turning every failure into a Graph error response. */
export async function withGraphErrors(
  request: HttpRequest,
  context: InvocationContext,
  run: (wire: WireContext) => Promise<HttpResponseInit>,
): Promise<HttpResponseInit> {
  let wire: WireContext = wireContext(request, context.invocationId, undefined);
  const scope = { requestId: wire.requestId, clientRequestId: wire.clientRequestId, trigger: "HTTP" as const };
  return withTelemetryScope(scope, async () => {
    try {
      // The same ids, now with the configured public base URL (reading the configuration may itself fail).
      wire = { ...wire, baseUrl: config().publicBaseUrl ?? wire.baseUrl };
      return await run(wire);
    } catch (error) {
      const known = graphErrorOf(error);
      if (known) {
        reportRejection(known, context);
        return errorResponse(known, wire);
      }
      context.error("Unhandled error", error);
      trackException(error);
      return errorResponse(graphError("internal", "An unexpected error occurred."), wire);
    }
  });
}

function teamIdFrom(params: Readonly<Record<string, string>>, name: "teamId" | "groupId"): string {
  const value = params[name] ?? "";
  if (!GUID.test(value)) {
    throw badRequest(`The ${name} in the path must be a GUID.`, {
      target: name,
      details: [{ code: "invalidValue", target: name, message: `'${name}' must be a GUID.` }],
    });
  }
  return value.toLowerCase();
}

/**
 * Wraps an operations handler with authentication, authorisation and Graph errors. The parameters are the
 * host's, unless the fallback passes those of a key-syntax path it resolved to this route.
 */
export function graphRoute(
  options: RouteOptions,
  handler: (api: ApiRequest) => Promise<HttpResponseInit>,
): (
  request: HttpRequest,
  context: InvocationContext,
  params?: Readonly<Record<string, string>>,
) => Promise<HttpResponseInit> {
  const teamPath = TEAM_PATHS[options.teamPath];
  return (request, context, params = request.params) =>
    withGraphErrors(request, context, async (wire) => {
      const cfg = config();
      // Only the Authorization header: never query-string tokens, function keys or X-MS-CLIENT-PRINCIPAL*.
      const claims = await authenticate(cfg)(request.headers.get("authorization"));
      const caller = callerFromClaims(claims);
      const teamId = teamIdFrom(params, teamPath.teamParam);
      const scope = telemetryScope();
      if (scope) scope.teamId = teamId;
      requirePermission(caller, options.access);
      requireTeamAccess(caller, teamId, teamPath.reach(params));
      return handler({ request, context, wire, caller, params, teamId, config: cfg });
    });
}

/** A request on a route that addresses no team (`/subscriptions`): the handler applies its own access rules. */
export type CallerRequest = Omit<ApiRequest, "teamId">;

/** Wraps a handler of a route outside the team paths with authentication and Graph errors. */
export function callerRoute(
  handler: (api: CallerRequest) => Promise<HttpResponseInit>,
): (
  request: HttpRequest,
  context: InvocationContext,
  params?: Readonly<Record<string, string>>,
) => Promise<HttpResponseInit> {
  return (request, context, params = request.params) =>
    withGraphErrors(request, context, async (wire) => {
      const cfg = config();
      const claims = await authenticate(cfg)(request.headers.get("authorization"));
      return handler({ request, context, wire, caller: callerFromClaims(claims), params, config: cfg });
    });
}
