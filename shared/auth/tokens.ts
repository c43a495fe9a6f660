/**
 * Bearer token verification with `jose`: signature with pinned algorithms,
 * audience, expiry and not-before with a small clock tolerance, and an issuer
 * that must be Entra ID's v1.0 or v2.0 issuer for the token's own tenant,
 * itself allowed by AUTH_TENANTS. The same code verifies real Entra ID tokens
 * and local development tokens; only where the signing keys come from differs.
 *
 * Only the `Authorization: Bearer` header is read. Tokens in the query string
 * or the body, function keys and App Service's `X-MS-CLIENT-PRINCIPAL*`
 * headers are never looked at. No token or claim value is ever echoed back
 * or logged: every message below is a fixed text, or counts what a header
 * held.
 */
import { readFileSync } from "node:fs";
import {
  createLocalJWKSet,
  customFetch,
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
import type { AppConfig } from "../config.js";
import { GUID } from "../ids.js";
import { graphError, retryAfter, type GraphError } from "../http/graphError.js";

/** Entra ID signs access tokens with RS256; nothing else is accepted (no `none`, no HMAC). */
export const ALGORITHMS = ["RS256"];
export const CLOCK_TOLERANCE_SECONDS = 60;
/** How long one fetch of the key set may take before the request gets a 503. */
export const JWKS_TIMEOUT_MS = 5_000;
/** Entra ID access tokens are a few KB; anything far larger is refused before parsing. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

export function issuersFor(tenantId: string): string[] {
  return [`https://login.microsoftonline.com/${tenantId}/v2.0`, `https://sts.windows.net/${tenantId}/`];
}

/** Where a client gets a token: the one tenant's authority when only one is allowed, else `common`. */
export function authorizationUri(tenants: AppConfig["auth"]["tenants"]): string {
  const authority = tenants !== "*" && tenants.length === 1 ? tenants[0] : "common";
  return `https://login.microsoftonline.com/${authority}/oauth2/v2.0/authorize`;
}

/**
 * A 401 with RFC 6750's challenge. Without a description (no credentials, or
 * another scheme than Bearer) the challenge carries no error code, as section
 * 3.1 asks; otherwise `error="invalid_token"` and the description, which is
 * always one of the fixed texts of this module (no quotes or backslashes).
 */
export function unauthenticated(
  description?: string,
  uri = authorizationUri("*"),
  message = description ?? "Access token is empty.",
): GraphError {
  const challenge = [`Bearer realm=""`, `authorization_uri="${uri}"`];
  if (description) challenge.push(`error="invalid_token"`, `error_description="${description}"`);
  return graphError("unauthenticated", message, { headers: { "WWW-Authenticate": challenge.join(", ") } });
}

/** Why an Authorization header holds no usable bearer token; undefined when it does. */
export type HeaderProblem = "missing" | "otherScheme" | "noToken" | "severalWords" | "malformed" | "tooLarge";

/** Takes the one bearer token out of an Authorization header. */
export function parseAuthorization(header: string | null): { token: string } | { problem: HeaderProblem } {
  const value = header?.trim() ?? "";
  if (value === "") return { problem: "missing" };
  const scheme = /^(\S+)/.exec(value)?.[1] ?? "";
  if (scheme.toLowerCase() !== "bearer") return { problem: "otherScheme" };
  // RFC 6750's b64token, exactly one, after exactly "Bearer ". A JWT uses a subset of it.
  const match = /^Bearer ([A-Za-z0-9\-_.~+/]+=*)$/i.exec(value);
  if (!match?.[1]) {
    const words = value.split(/\s+/).length - 1;
    return { problem: words === 0 ? "noToken" : words > 1 ? "severalWords" : "malformed" };
  }
  if (match[1].length > MAX_TOKEN_LENGTH) return { problem: "tooLarge" };
  return { token: match[1] };
}

/** How a developer gets a token the local server accepts: added to messages when the development key is in use. */
const LOCAL_TOKEN_HINT = "For this local server: TOKEN=$(npm run --silent token) in the project folder.";

/**
 * What a header that holds no usable token held, and the usual cause, said without repeating any of it (only
 * counts, and whether npm's script banner is in it). `local`: the server trusts the development key, so the
 * message says how to get a token for it.
 */
export function authorizationProblem(
  problem: HeaderProblem,
  header: string | null,
  local = false,
): { description?: string; message: string } {
  const hint = local ? ` ${LOCAL_TOKEN_HINT}` : "";
  switch (problem) {
    case "missing":
      return { message: "Access token is empty." };
    case "otherScheme":
      return { message: "The Authorization header must use the Bearer scheme." };
    case "noToken": {
      const message =
        "The Authorization header is 'Bearer' with no token after it. The usual cause: the variable meant to " +
        "hold the token is empty because the command that should have printed it failed (npm run --silent " +
        `token prints nothing outside the project folder).${hint}`;
      return { description: message, message };
    }
    case "severalWords": {
      const value = header?.trim() ?? "";
      const words = value.split(/\s+/).slice(1);
      const lines = value.split(/\r?\n/).length;
      const banner = words.includes(">");
      const message =
        `The Authorization header holds ${words.length} words after 'Bearer'` +
        (lines > 1 ? ` on ${lines} lines` : "") +
        (banner ? ", some of them '>'" : "") +
        ", where exactly one token belongs. " +
        (banner
          ? "The usual cause: npm's script banner captured with the token (npm run token without --silent)."
          : "The usual cause: text captured with the token, or two tokens in one header.") +
        hint;
      return { description: message, message };
    }
    case "malformed":
      return {
        description: "The Authorization header must be 'Bearer' followed by exactly one token.",
        message: "The Authorization header must be 'Bearer' followed by exactly one token.",
      };
    case "tooLarge":
      return { description: "The access token is too large.", message: "The access token is too large." };
  }
}

/** The bearer token of an Authorization header, or the 401 a missing or bad header deserves. */
export function bearerToken(header: string | null, uri?: string, local = false): string {
  const parsed = parseAuthorization(header);
  if ("token" in parsed) return parsed.token;
  const { description, message } = authorizationProblem(parsed.problem, header, local);
  throw unauthenticated(description, uri, message);
}

/** The key set could not be fetched or read: not the caller's fault, so a 503 rather than a 401. */
class KeysUnavailable extends Error {
  constructor(cause: unknown) {
    super("Token signing keys are unavailable.", { cause });
    this.name = "KeysUnavailable";
  }
}

/**
 * Where signing keys come from. The remote set is cached for AUTH_JWKS_CACHE_SECONDS
 * and fetched again on a key id it does not know, at most once per
 * AUTH_JWKS_COOLDOWN_SECONDS (jose's remote key set), so a new key is picked up at
 * once and a withdrawn key stops working at the next fetch.
 */
interface KeySource {
  readonly getKey: JWTVerifyGetKey;
  /** Which key set is in use: it changes with every fetch, and is undefined while the set is stale. */
  readonly current: () => number | undefined;
}

function keySource(auth: AppConfig["auth"]): KeySource {
  // Counts fetches of the remote set, so a verification remembered under one set is not trusted under the next.
  let generation = 0;
  const keys = auth.jwksFile
    ? createLocalJWKSet(JSON.parse(readFileSync(auth.jwksFile, "utf8")) as JSONWebKeySet)
    : createRemoteJWKSet(new URL(auth.jwksUri), {
        timeoutDuration: JWKS_TIMEOUT_MS,
        cooldownDuration: auth.jwksCooldownSeconds * 1000,
        cacheMaxAge: auth.jwksCacheSeconds * 1000,
        [customFetch]: (url: string, options: RequestInit) => {
          generation++;
          return fetch(url, options);
        },
      });
  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await keys(header, token);
    } catch (error) {
      // No key, or several keys (jose then tries each), for this token: the token's problem.
      if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) {
        throw error;
      }
      // Anything else (timeout, network, a non-200 answer, a malformed set) is the key service's.
      throw new KeysUnavailable(error);
    }
  };
  // A stale remote set counts as changed: the next verification goes through jose, which refetches it.
  const remote = keys as { fresh?: boolean };
  return { getKey, current: () => (remote.fresh === false ? undefined : generation) };
}

/** How long a verified token is remembered at most (never past its `exp`, never across a key-set refresh). */
export const VERIFIED_TOKEN_CACHE_MS = 5 * 60_000;
const VERIFIED_TOKEN_CACHE_ENTRIES = 1000;

function describeFailure(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return "The access token has expired.";
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === "nbf") return "The access token is not yet valid.";
    if (error.claim === "aud") return "The access token is not for this API (audience).";
    if (["exp", "iss", "tid"].includes(error.claim)) return `The access token has no valid '${error.claim}' claim.`;
    return "The access token's claims are invalid.";
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) return "The access token was signed by an unknown key.";
  if (error instanceof joseErrors.JWKSMultipleMatchingKeys) return "The access token does not name its signing key.";
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "The access token's signing algorithm is not allowed.";
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "The access token's signature is invalid.";
  return "The access token is malformed.";
}

export type VerifiedClaims = JWTPayload & { tid: string };

/** Reads the Authorization header and returns the verified claims, or throws a Graph 401/503. */
export type Authenticator = (authorization: string | null) => Promise<VerifiedClaims>;

export function createAuthenticator(auth: AppConfig["auth"]): Authenticator {
  const keys = keySource(auth);
  const audience = [...auth.audiences];
  const uri = authorizationUri(auth.tenants);
  const refuse = (description: string) => unauthenticated(description, uri);
  // A client that polls sends the same token for up to an hour: its signature is checked once, not every time
  // (the check is most of a request's own cost; see docs/benchmarks.md). Only successes are remembered.
  const verified = new Map<string, { claims: VerifiedClaims; until: number; keySet: number | undefined }>();
  // The last header seen, as it was sent: a client polling sends the same one, found without parsing or hashing it.
  let last:
    { header: string; entry: { claims: VerifiedClaims; until: number; keySet: number | undefined } } | undefined;
  return async (authorization) => {
    const keySet = keys.current();
    if (last && authorization === last.header) {
      const entry = last.entry;
      if (entry.until > Date.now() && keySet !== undefined && entry.keySet === keySet) return entry.claims;
    }
    const token = bearerToken(authorization, uri, auth.jwksFile !== undefined);
    const hit = verified.get(token);
    if (hit && hit.until > Date.now() && keySet !== undefined && hit.keySet === keySet) {
      last = { header: authorization!, entry: hit };
      return hit.claims;
    }
    if (hit) verified.delete(token);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys.getKey, {
        algorithms: ALGORITHMS,
        audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ["exp", "iss", "aud", "tid"],
      }));
    } catch (error) {
      if (error instanceof KeysUnavailable) {
        throw graphError("serviceUnavailable", "Token signing keys are unavailable; retry later.", {
          headers: retryAfter(5),
        });
      }
      throw refuse(describeFailure(error));
    }
    const tid = payload.tid;
    if (typeof tid !== "string" || !GUID.test(tid)) throw refuse("The access token has no valid 'tid' claim.");
    if (typeof payload.iss !== "string" || !issuersFor(tid).includes(payload.iss)) {
      throw refuse("The access token's issuer does not match its tenant.");
    }
    if (auth.tenants !== "*" && !auth.tenants.includes(tid.toLowerCase())) {
      throw refuse("The access token's tenant is not allowed to use this API.");
    }
    const claims: VerifiedClaims = Object.freeze({ ...payload, tid: tid.toLowerCase() });
    if (verified.size >= VERIFIED_TOKEN_CACHE_ENTRIES) verified.delete(verified.keys().next().value!);
    const until = Math.min(Number(payload.exp) * 1000, Date.now() + VERIFIED_TOKEN_CACHE_MS);
    const entry = { claims, until, keySet: keys.current() };
    verified.set(token, entry);
    last = { header: authorization!, entry };
    return claims;
  };
}
