/**
 * Graph's error model. Every rejection the API makes is one of these; the
 * pipeline turns it into `{"error":{code,message,target,details,innerError}}`.
 * The HTTP layer throws them itself; what the store and the domain throw
 * (`../errors.ts`) becomes one in `errorMapping.ts`.
 */
import type { ErrorDetail } from "../errors.js";

export { DetailCode, type ErrorDetail } from "../errors.js";

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

export const badRequest = (message: string, options?: GraphErrorOptions) =>
  new GraphError(400, ErrorCode.invalidRequest, message, options);

/** A 400 for something Graph has that this API does not (a query option, a function, an operator). */
export const notSupported = (message: string, options?: GraphErrorOptions) =>
  new GraphError(400, ErrorCode.notSupported, message, options);

export const notFound = (message: string) => new GraphError(404, ErrorCode.notFound, message);
