/**
 * The one path every API request takes: request ids, token verification,
 * permission and team checks, then the handler; any failure becomes a Graph
 * error. Function files wrap their handlers with `graphRoute` and do nothing else.
 */
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import {
  callerFromClaims,
  requirePermission,
  requireTeamAccess,
  type AccessLevel,
  type Caller,
} from "../auth/access.js";
import { bearerToken, createTokenVerifier, type TokenVerifier } from "../auth/tokens.js";
import { config, type AppConfig } from "../config.js";
import { ErrorCode, GraphError, badRequest } from "./graphError.js";
import { errorResponse, wireContext, type WireContext } from "./wire.js";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface RouteOptions {
  /** What the route needs: `read` or `write` permission. */
  readonly access: AccessLevel;
  /** A `/me/joinedGroups/{groupId}/team/...` route: delegated callers only, team = group. */
  readonly viaMe: boolean;
}

export interface ApiRequest {
  readonly request: HttpRequest;
  readonly context: InvocationContext;
  readonly wire: WireContext;
  readonly caller: Caller;
  /** The team the route addresses, lower-cased GUID. */
  readonly teamId: string;
  readonly viaMe: boolean;
  readonly config: AppConfig;
}

let verifier: TokenVerifier | undefined;

function verifyToken(cfg: AppConfig): TokenVerifier {
  verifier ??= createTokenVerifier(cfg.auth);
  return verifier;
}

/** Runs a handler, turning every failure into a Graph error response. */
export async function withGraphErrors(
  request: HttpRequest,
  context: InvocationContext,
  run: (wire: WireContext) => Promise<HttpResponseInit>,
): Promise<HttpResponseInit> {
  let wire: WireContext = wireContext(request, context.invocationId, undefined);
  try {
    wire = wireContext(request, context.invocationId, config().publicBaseUrl);
    return await run(wire);
  } catch (error) {
    if (error instanceof GraphError) {
      if (error.status >= 500) context.warn(`${error.status} ${error.code}: ${error.message}`);
      return errorResponse(error, wire);
    }
    context.error("Unhandled error", error);
    return errorResponse(new GraphError(500, ErrorCode.internal, "An unexpected error occurred."), wire);
  }
}

function teamIdFrom(request: HttpRequest, viaMe: boolean): string {
  const name = viaMe ? "groupId" : "teamId";
  const value = request.params[name] ?? "";
  if (!GUID.test(value)) {
    throw badRequest(`The ${name} in the path must be a GUID.`, {
      target: name,
      details: [{ code: "invalidValue", target: name, message: `'${name}' must be a GUID.` }],
    });
  }
  return value.toLowerCase();
}

/** Wraps an operation handler with authentication, authorisation and Graph errors. */
export function graphRoute(
  options: RouteOptions,
  handler: (api: ApiRequest) => Promise<HttpResponseInit>,
): HttpHandler {
  return (request, context) =>
    withGraphErrors(request, context, async (wire) => {
      const cfg = config();
      const claims = await verifyToken(cfg)(bearerToken(request.headers.get("authorization")));
      const caller = callerFromClaims(claims);
      const teamId = teamIdFrom(request, options.viaMe);
      requirePermission(caller, options.access);
      requireTeamAccess(caller, teamId, options.viaMe);
      return handler({ request, context, wire, caller, teamId, viaMe: options.viaMe, config: cfg });
    });
}
