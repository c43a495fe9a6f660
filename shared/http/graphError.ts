/**
 * Graph's error model. Every rejection the API makes is one of these; the
 * pipeline turns it into `{"error":{code,message,target,details,innerError}}`.
 */

export interface ErrorDetail {
  readonly code: string;
  readonly message: string;
  readonly target?: string;
}

export interface GraphErrorOptions {
  readonly target?: string;
  readonly details?: readonly ErrorDetail[];
  readonly headers?: Readonly<Record<string, string>>;
}

export class GraphError extends Error {
  readonly status: number;
  readonly code: string;
  readonly target: string | undefined;
  readonly details: readonly ErrorDetail[];
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: string, message: string, options: GraphErrorOptions = {}) {
    super(message);
    this.name = "GraphError";
    this.status = status;
    this.code = code;
    this.target = options.target;
    this.details = options.details ?? [];
    this.headers = options.headers ?? {};
  }
}

/** The error codes this API uses, one place to read them all. */
export const ErrorCode = {
  badRequest: "badRequest",
  invalidRequest: "invalidRequest",
  unauthenticated: "InvalidAuthenticationToken",
  accessDenied: "accessDenied",
  notFound: "itemNotFound",
  methodNotAllowed: "methodNotAllowed",
  conflict: "conflict",
  preconditionFailed: "preconditionFailed",
  payloadTooLarge: "requestEntityTooLarge",
  unsupportedMediaType: "unsupportedMediaType",
  tooManyRequests: "tooManyRequests",
  serviceUnavailable: "serviceNotAvailable",
  internal: "generalException",
} as const;

/** Codes used inside `details`, one per offending property or header. */
export const DetailCode = {
  unknownProperty: "unknownProperty",
  readOnlyProperty: "readOnlyProperty",
  requiredProperty: "requiredProperty",
  invalidType: "invalidType",
  invalidValue: "invalidValue",
} as const;

export const badRequest = (message: string, options?: GraphErrorOptions) =>
  new GraphError(400, ErrorCode.badRequest, message, options);

export const notFound = (message: string) => new GraphError(404, ErrorCode.notFound, message);

export const conflict = (message: string, options?: GraphErrorOptions) =>
  new GraphError(409, ErrorCode.conflict, message, options);
