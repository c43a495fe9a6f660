/**
 * Graph's error model. Every rejection the API makes is one of these; the
 * pipeline turns it into `{"error":{code,message,target,details,innerError}}`.
 * Each is born from the catalogue below (`graphError`, `GRAPH_ERRORS`): the HTTP
 * layer throws them itself; what the store and the domain throw (`../errors.ts`)
 * becomes one in `errorMapping.ts`.
 */
import type { ErrorDetail } from "../errors.js";

export type { ErrorDetail } from "../errors.js";

export interface GraphErrorOptions {
  readonly target?: string;
  readonly details?: readonly ErrorDetail[];
  readonly headers?: Readonly<Record<string, string>>;
  /** What it was made from (a store fault, with what the store said): for logs and telemetry, never the caller. */
  readonly cause?: unknown;
}

export class GraphError extends Error {
  readonly status: number;
  readonly code: string;
  readonly target: string | undefined;
  readonly details: readonly ErrorDetail[];
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: string, message: string, options: GraphErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GraphError";
    this.status = status;
    this.code = code;
    this.target = options.target;
    this.details = options.details ?? [];
    this.headers = options.headers ?? {};
  }
}

/**
 * The top-level error codes, every one from Graph's documented list
 * (https://learn.microsoft.com/graph/errors), keyed by what they mean here.
 * 401 uses `InvalidAuthenticationToken`, the code Graph itself returns for a
 * missing or bad token.
 */
export const ErrorCode = {
  /** 400: malformed or incorrect input, 413 too. */
  invalidRequest: "invalidRequest",
  /** 400 or 405 or 415: something Graph has (a query option, a function, a method, a media type) that this API does not. */
  notSupported: "notSupported",
  unauthenticated: "InvalidAuthenticationToken",
  accessDenied: "accessDenied",
  notFound: "itemNotFound",
  /** 409: an operation with that id already exists. */
  nameAlreadyExists: "nameAlreadyExists",
  /** 409: a change the state rules refuse. */
  notAllowed: "notAllowed",
  /** 412: the ETag in If-Match is not the current one. */
  resourceModified: "resourceModified",
  /** 403: a limit on what a tenant may hold (subscriptions). */
  quotaLimitReached: "quotaLimitReached",
  /** 429: throttled. */
  activityLimitReached: "activityLimitReached",
  serviceUnavailable: "serviceNotAvailable",
  internal: "generalException",
} as const;

/**
 * The catalogue: every Graph error the API answers with is one of these kinds, each with its one status and code.
 * A GraphError is made only here (`graphError`), so that a status always goes with the code Graph gives it; the
 * unit test of this module scans the sources for any made elsewhere.
 */
export const GRAPH_ERRORS = {
  /** Malformed or incorrect input (a body, a header, a path or query value). */
  badRequest: { status: 400, code: ErrorCode.invalidRequest },
  /** Something Graph has (a query option, a function, an operator, a property) that this API does not offer. */
  notSupported: { status: 400, code: ErrorCode.notSupported },
  /** No usable access token: with RFC 6750's challenge (`auth/tokens.ts`). */
  unauthenticated: { status: 401, code: ErrorCode.unauthenticated },
  /** A permission, a team or an owner the caller lacks. */
  forbidden: { status: 403, code: ErrorCode.accessDenied },
  /** A limit on what a tenant may hold (subscriptions). */
  quotaLimitReached: { status: 403, code: ErrorCode.quotaLimitReached },
  notFound: { status: 404, code: ErrorCode.notFound },
  /** A known path with another method: with `Allow`. */
  methodNotAllowed: { status: 405, code: ErrorCode.notSupported },
  /** Headers or a body that stopped arriving (the host's refusal). */
  requestTimeout: { status: 408, code: ErrorCode.invalidRequest },
  /** An id that is taken. */
  nameAlreadyExists: { status: 409, code: ErrorCode.nameAlreadyExists },
  /** A change the rules refuse. */
  notAllowed: { status: 409, code: ErrorCode.notAllowed },
  /** A chunked body, which the Functions host does not pass on. */
  lengthRequired: { status: 411, code: ErrorCode.invalidRequest },
  /** The ETag in If-Match (or If-None-Match) refuses the change. */
  resourceModified: { status: 412, code: ErrorCode.resourceModified },
  payloadTooLarge: { status: 413, code: ErrorCode.invalidRequest },
  unsupportedMediaType: { status: 415, code: ErrorCode.notSupported },
  /** A batch request not run because one it depends on failed. */
  failedDependency: { status: 424, code: ErrorCode.notAllowed },
  /** Too much at once: with `Retry-After`. */
  throttled: { status: 429, code: ErrorCode.activityLimitReached },
  /** Request headers larger than the host accepts. */
  headersTooLarge: { status: 431, code: ErrorCode.invalidRequest },
  /** A bug, or a store that refused for a reason no caller can fix. */
  internal: { status: 500, code: ErrorCode.internal },
  /** The service cannot answer now: with `Retry-After`. */
  serviceUnavailable: { status: 503, code: ErrorCode.serviceUnavailable },
} as const satisfies Record<string, { readonly status: number; readonly code: string }>;

export type GraphErrorKind = keyof typeof GRAPH_ERRORS;

/** A Graph error of one of the catalogue's kinds. */
export function graphError(kind: GraphErrorKind, message: string, options?: GraphErrorOptions): GraphError {
  const { status, code } = GRAPH_ERRORS[kind];
  return new GraphError(status, code, message, options);
}

/** A `Retry-After` header for a fault's Graph error. */
export const retryAfter = (seconds: number): Readonly<Record<string, string>> => ({ "Retry-After": String(seconds) });

export const badRequest = (message: string, options?: GraphErrorOptions) => graphError("badRequest", message, options);

/** A 400 for something Graph has that this API does not (a query option, a function, an operator). */
export const notSupported = (message: string, options?: GraphErrorOptions) =>
  graphError("notSupported", message, options);

export const notFound = (message: string) => graphError("notFound", message);
