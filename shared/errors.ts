/**
 * The errors the store and the domain throw, where they arise, in their own
 * terms: nothing here knows about HTTP. Each has a stable `code` and is a
 * `Refusal` (the request is refused for what it asks) or a `Fault` (the
 * service could not serve it now, so it may succeed later). The HTTP pipeline
 * turns them into Graph errors in one place (`http/errorMapping.ts`); the
 * queue inbox and the sweeper decide from the same types whether to retry,
 * poison or skip. Messages are written for the caller who will read them.
 */

/** One offending property, header or value: Graph's `details` entry. */
export interface ErrorDetail {
  readonly code: string;
  readonly message: string;
  readonly target?: string;
}

/** Codes used inside `details`, one per offending property or header. */
export const DetailCode = {
  unknownProperty: "unknownProperty",
  readOnlyProperty: "readOnlyProperty",
  requiredProperty: "requiredProperty",
  invalidType: "invalidType",
  invalidValue: "invalidValue",
  /** A feature Graph has and this API does not offer. */
  notSupported: "notSupported",
} as const;

/** What a refusal names: the property (or header) it concerns, and one detail per offending one. */
export interface RefusalOptions {
  readonly target?: string;
  readonly details?: readonly ErrorDetail[];
  /** The stable key of the domain rule that refused, where one did (`OPERATION_RULES` in operations/rules.ts). */
  readonly rule?: string;
}

export abstract class AppError extends Error {
  /** A stable name for what went wrong: one of the known kinds (`KnownErrors`), each mapped in http/errorMapping.ts. */
  abstract readonly code: ErrorKind;
  /** The class's name, spelt out: the bundle is minified without keeping names. */
  abstract override readonly name: string;
}

/** The request is refused for what it asks: the same request would be refused again, so it is not retried. */
export abstract class Refusal extends AppError {
  readonly target: string | undefined;
  readonly details: readonly ErrorDetail[];
  readonly rule: string | undefined;

  constructor(message: string, options: RefusalOptions = {}) {
    super(message);
    this.target = options.target;
    this.details = options.details ?? [];
    this.rule = options.rule;
  }
}

/** The service could not serve the request now: the same request may succeed later, so queue callers retry it. */
export abstract class Fault extends AppError {}

// ---------------------------------------------------------------- born in the store

/** What was asked for does not exist (or exists only for another tenant, which is the same to the caller). */
export class NotFoundError extends Refusal {
  override readonly name = "NotFoundError";
  readonly code = "notFound";
}

/** Something with that identity already exists: `target` names what is taken (`id`). */
export class AlreadyExistsError extends Refusal {
  override readonly name = "AlreadyExistsError";
  readonly code = "alreadyExists";
}

/** The stored version is no longer the one the change was made against (its ETag changed). */
export class PreconditionFailedError extends Refusal {
  override readonly name = "PreconditionFailedError";
  readonly code = "preconditionFailed";
  constructor(message = "The operation has changed since the ETag given in If-Match.") {
    super(message);
  }
}

/** A continuation (paging) token that is not one the store issued for this query. */
export class InvalidContinuationError extends Refusal {
  override readonly name = "InvalidContinuationError";
  readonly code = "invalidContinuation";
  constructor(message = "The continuation token was not issued for this query.") {
    super(message);
  }
}

/** A fault that says when to try again. */
export abstract class RetryLaterFault extends Fault {
  constructor(
    message: string,
    /** Whole seconds to wait before retrying, at least 1. */
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Too much at once (the store's request rate, or writers waiting for one operation): retry after the hint. */
export class ThrottledError extends RetryLaterFault {
  override readonly name = "ThrottledError";
  readonly code = "throttled";
}

/** The store cannot serve the request now (down, timed out, not set up, or contended): retry after the hint. */
export class UnavailableError extends RetryLaterFault {
  override readonly name = "UnavailableError";
  readonly code = "unavailable";
}

/**
 * The store refused a request for a reason no caller can fix (one it considers malformed, a permission it lacks):
 * a fault of ours, which a queue caller retries (and in the end poisons) like any other.
 */
export class StoreRejectedError extends Fault {
  override readonly name = "StoreRejectedError";
  readonly code = "storeRejected";
  constructor(options?: ErrorOptions) {
    super("The store rejected the request.", options);
  }
}

// ---------------------------------------------------------------- born in the domain

/** Input that is malformed, of the wrong shape or inconsistent: the details name each offending property. */
export class InvalidInputError extends Refusal {
  override readonly name = "InvalidInputError";
  readonly code = "invalidInput";
}

/** A change the operation rules refuse (a finished operation, a backward status, a reused request id). */
export class RuleViolationError extends Refusal {
  override readonly name = "RuleViolationError";
  readonly code = "ruleViolation";
}

/** Input asking for something the resource has in Graph that this service does not offer. */
export class UnsupportedError extends Refusal {
  override readonly name = "UnsupportedError";
  readonly code = "unsupported";
}

/** The caller may not do this, for who it is (a token naming no owner, a creator no longer in the team). */
export class AccessDeniedError extends Refusal {
  override readonly name = "AccessDeniedError";
  readonly code = "accessDenied";
}

/** A limit on what a tenant may hold is reached (its subscriptions). */
export class QuotaExceededError extends Refusal {
  override readonly name = "QuotaExceededError";
  readonly code = "quotaExceeded";
}

/**
 * Every error the layers below the pipeline throw on purpose, by its code; anything else thrown is a bug. An AppError
 * takes its code from here, and http/errorMapping.ts maps every code in a table typed by this one: a new kind of error
 * that is not mapped fails the type check.
 */
export interface KnownErrors {
  notFound: NotFoundError;
  alreadyExists: AlreadyExistsError;
  preconditionFailed: PreconditionFailedError;
  invalidContinuation: InvalidContinuationError;
  invalidInput: InvalidInputError;
  ruleViolation: RuleViolationError;
  unsupported: UnsupportedError;
  accessDenied: AccessDeniedError;
  quotaExceeded: QuotaExceededError;
  throttled: ThrottledError;
  unavailable: UnavailableError;
  storeRejected: StoreRejectedError;
}

export type ErrorKind = keyof KnownErrors;

export type KnownError = KnownErrors[ErrorKind];

/** Every AppError is a known kind, since its code must be one of them. */
export function isKnownError(error: unknown): error is KnownError {
  return error instanceof AppError;
}
