/**
 * Bearer token verification with `jose`: signature with pinned algorithms,
 * audience, expiry and not-before with a small clock tolerance, and an issuer
 * that must be Entra ID's v1.0 or v2.0 issuer for the token's own tenant.
 * The same code verifies real Entra ID tokens and local development tokens;
 * only where the signing keys come from differs.
 */
import { readFileSync } from "node:fs";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
import type { AppConfig } from "../config.js";
import { ErrorCode, GraphError } from "../http/graphError.js";

export const ALGORITHMS = ["RS256"];
export const CLOCK_TOLERANCE_SECONDS = 60;
export const AUTHORIZATION_URI = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize";
/** Entra ID access tokens are a few KB; anything far larger is refused before parsing. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function issuersFor(tenantId: string): string[] {
  return [`https://login.microsoftonline.com/${tenantId}/v2.0`, `https://sts.windows.net/${tenantId}/`];
}

/** A 401 with RFC 6750's challenge. No token or claim value is ever echoed. */
export function unauthenticated(description?: string): GraphError {
  const challenge = [`Bearer realm=""`, `authorization_uri="${AUTHORIZATION_URI}"`];
  if (description) challenge.push(`error="invalid_token"`, `error_description="${description}"`);
  return new GraphError(401, ErrorCode.unauthenticated, description ?? "Access token is empty.", {
    headers: { "WWW-Authenticate": challenge.join(", ") },
  });
}

/** Takes the one bearer token out of an Authorization header, or refuses the header. */
export function bearerToken(header: string | null): string {
  if (header === null || header.trim() === "") throw unauthenticated();
  const match = /^Bearer ([A-Za-z0-9\-_.~+/]+=*)$/i.exec(header.trim());
  if (!match?.[1]) throw unauthenticated("The Authorization header must be 'Bearer' followed by one token.");
  if (match[1].length > MAX_TOKEN_LENGTH) throw unauthenticated("The access token is too large.");
  return match[1];
}

function keySource(auth: AppConfig["auth"]): JWTVerifyGetKey {
  if (auth.jwksFile) return createLocalJWKSet(JSON.parse(readFileSync(auth.jwksFile, "utf8")) as JSONWebKeySet);
  return createRemoteJWKSet(new URL(auth.jwksUri), {
    timeoutDuration: 5_000,
    cooldownDuration: 30_000,
    cacheMaxAge: 6 * 60 * 60 * 1000,
  });
}

export type TokenVerifier = (token: string) => Promise<JWTPayload & { tid: string }>;

function describeFailure(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return "The access token has expired.";
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === "nbf") return "The access token is not yet valid.";
    if (error.claim === "aud") return "The access token is not for this API (audience).";
    return `The access token's '${error.claim}' claim is invalid.`;
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) return "The access token was signed by an unknown key.";
  if (!(error instanceof joseErrors.JOSEError)) return "The access token could not be verified.";
  return "The access token's signature or format is invalid.";
}

export function createTokenVerifier(auth: AppConfig["auth"]): TokenVerifier {
  const keys = keySource(auth);
  const audience = [...auth.audiences];
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: ALGORITHMS,
        audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ["exp", "iss", "aud", "tid"],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWKSTimeout || error instanceof TypeError) {
        // The key service could not be reached: not the caller's fault.
        throw new GraphError(503, ErrorCode.serviceUnavailable, "Token signing keys are unavailable; retry later.", {
          headers: { "Retry-After": "5" },
        });
      }
      throw unauthenticated(describeFailure(error));
    }
    const tid = payload.tid;
    if (typeof tid !== "string" || !GUID.test(tid)) throw unauthenticated("The access token has no valid tenant.");
    if (!issuersFor(tid).includes(String(payload.iss))) {
      throw unauthenticated("The access token's issuer does not match its tenant.");
    }
    if (auth.tenants !== "*" && !auth.tenants.includes(tid.toLowerCase())) {
      throw unauthenticated("The access token's tenant is not allowed to use this API.");
    }
    return { ...payload, tid: tid.toLowerCase() };
  };
}
