/**
 * Where the errors of the store and the domain (`../errors.ts`) become Graph
 * errors: the one table of status, Graph code and headers for each. The
 * message, target and details are the error's own, except for the continuation
 * token, which reaches the client as the `$skiptoken` it sent. The pipeline
 * answers with the result, and the queue inbox writes it into a poison
 * record's reason, so a message is refused in the words a request would be.
 */
import { isKnownError, type ErrorKind, type KnownError, type KnownErrors, type Refusal } from "../errors.js";
import { GraphError, graphError, retryAfter, type GraphErrorOptions } from "./graphError.js";

const named = (error: Refusal): GraphErrorOptions => ({ target: error.target, details: error.details });
/** A fault's Graph error keeps the fault as its cause: what the store said reaches the logs and exception telemetry. */
const fault = (error: KnownError, seconds?: number): GraphErrorOptions => ({
  cause: error,
  ...(seconds === undefined ? {} : { headers: retryAfter(seconds) }),
});

/** The table: one entry for each kind of error (a kind without one fails the type check). */
const MAPPING: { readonly [K in ErrorKind]: (error: KnownErrors[K]) => GraphError } = {
  invalidInput: (error) => graphError("badRequest", error.message, named(error)),
  unsupported: (error) => graphError("notSupported", error.message, named(error)),
  invalidContinuation: () =>
    graphError("badRequest", "Invalid $skiptoken: it was not issued for this query; start again from the first page.", {
      target: "$skiptoken",
      details: [{ code: "invalidQueryOption", target: "$skiptoken", message: "Not issued for this query." }],
    }),
  accessDenied: (error) => graphError("forbidden", error.message, named(error)),
  quotaExceeded: (error) => graphError("quotaLimitReached", error.message, named(error)),
  notFound: (error) => graphError("notFound", error.message, named(error)),
  alreadyExists: (error) => graphError("nameAlreadyExists", error.message, named(error)),
  ruleViolation: (error) => graphError("notAllowed", error.message, named(error)),
  preconditionFailed: (error) => graphError("resourceModified", error.message, named(error)),
  throttled: (error) => graphError("throttled", error.message, fault(error, error.retryAfterSeconds)),
  unavailable: (error) => graphError("serviceUnavailable", error.message, fault(error, error.retryAfterSeconds)),
  storeRejected: (error) => graphError("internal", error.message, fault(error)),
};

const mapped = <K extends ErrorKind>(error: KnownErrors[K] & { readonly code: K }): GraphError =>
  MAPPING[error.code](error);

/**
 * The Graph error for a failure the app knows: a GraphError as it is, an error of the store or the domain mapped;
 * undefined for anything else, which is a bug (the pipeline's 500).
 */
export function graphErrorOf(error: unknown): GraphError | undefined {
  if (error instanceof GraphError) return error;
  // (Object.hasOwn: a kind the type check let through, from code it did not check, is still a bug, not a crash.)
  return isKnownError(error) && Object.hasOwn(MAPPING, error.code) ? mapped(error) : undefined;
}
