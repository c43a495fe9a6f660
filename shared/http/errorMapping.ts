/**
 * Where the errors of the store and the domain (`../errors.ts`) become Graph
 * errors: the one table of status, Graph code and headers for each. The
 * message, target and details are the error's own, except for the continuation
 * token, which reaches the client as the `$skiptoken` it sent. The pipeline
 * answers with the result, and the queue inbox writes it into a poison
 * record's reason, so a message is refused in the words a request would be.
 */
import { isKnownError, type KnownError, type Refusal } from "../errors.js";
import { GraphError, graphError, retryAfter, type GraphErrorOptions } from "./graphError.js";

const named = (error: Refusal): GraphErrorOptions => ({ target: error.target, details: error.details });
/** A fault's Graph error keeps the fault as its cause: what the store said reaches the logs and exception telemetry. */
const fault = (error: KnownError, seconds?: number): GraphErrorOptions => ({
  cause: error,
  ...(seconds === undefined ? {} : { headers: retryAfter(seconds) }),
});

function mapped(error: KnownError): GraphError {
  switch (error.code) {
    case "invalidInput":
      return graphError("badRequest", error.message, named(error));
    case "unsupported":
      return graphError("notSupported", error.message, named(error));
    case "invalidContinuation":
      return graphError(
        "badRequest",
        "Invalid $skiptoken: it was not issued for this query; start again from the first page.",
        {
          target: "$skiptoken",
          details: [{ code: "invalidQueryOption", target: "$skiptoken", message: "Not issued for this query." }],
        },
      );
    case "notFound":
      return graphError("notFound", error.message, named(error));
    case "alreadyExists":
      return graphError("nameAlreadyExists", error.message, named(error));
    case "ruleViolation":
      return graphError("notAllowed", error.message, named(error));
    case "preconditionFailed":
      return graphError("resourceModified", error.message, named(error));
    case "throttled":
      return graphError("throttled", error.message, fault(error, error.retryAfterSeconds));
    case "unavailable":
      return graphError("serviceUnavailable", error.message, fault(error, error.retryAfterSeconds));
    case "storeRejected":
      return graphError("internal", error.message, fault(error));
  }
}

/**
 * The Graph error for a failure the app knows: a GraphError as it is, an error of the store or the domain mapped;
 * undefined for anything else, which is a bug (the pipeline's 500).
 */
export function graphErrorOf(error: unknown): GraphError | undefined {
  if (error instanceof GraphError) return error;
  return isKnownError(error) ? mapped(error) : undefined;
}
