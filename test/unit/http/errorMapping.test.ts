import { describe, expect, it } from "vitest";
import {
  AccessDeniedError,
  AlreadyExistsError,
  Fault,
  InvalidContinuationError,
  InvalidInputError,
  NotFoundError,
  PreconditionFailedError,
  QuotaExceededError,
  Refusal,
  RuleViolationError,
  StoreRejectedError,
  ThrottledError,
  UnavailableError,
  UnsupportedError,
  type KnownError,
} from "../../../shared/errors.js";
import { graphErrorOf } from "../../../shared/http/errorMapping.js";
import { badRequest, GraphError } from "../../../shared/http/graphError.js";

const detail = { code: "invalidValue", target: "status", message: "The property 'status' must be one of: a, b." };

/** Every error type the store and the domain throw, with the Graph error the API answers it with. */
const table: ReadonlyArray<{
  readonly error: KnownError;
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly target?: string;
  readonly details?: readonly unknown[];
  readonly headers?: Record<string, string>;
}> = [
  {
    error: new InvalidInputError("The request body is not a valid teamsAsyncOperation: status.", { details: [detail] }),
    status: 400,
    code: "invalidRequest",
    message: "The request body is not a valid teamsAsyncOperation: status.",
    details: [detail],
  },
  {
    error: new UnsupportedError("The changeType 'deleted' is not supported.", { target: "changeType" }),
    status: 400,
    code: "notSupported",
    message: "The changeType 'deleted' is not supported.",
    target: "changeType",
  },
  {
    error: new InvalidContinuationError(),
    status: 400,
    code: "invalidRequest",
    message: "Invalid $skiptoken: it was not issued for this query; start again from the first page.",
    target: "$skiptoken",
    details: [{ code: "invalidQueryOption", target: "$skiptoken", message: "Not issued for this query." }],
  },
  {
    error: new AccessDeniedError("The token names no user (oid) or application to own the subscription."),
    status: 403,
    code: "accessDenied",
    message: "The token names no user (oid) or application to own the subscription.",
  },
  {
    error: new QuotaExceededError("The tenant holds 3 subscriptions, the most it may hold (3)."),
    status: 403,
    code: "quotaLimitReached",
    message: "The tenant holds 3 subscriptions, the most it may hold (3).",
  },
  {
    error: new NotFoundError("The operation does not exist."),
    status: 404,
    code: "itemNotFound",
    message: "The operation does not exist.",
  },
  {
    error: new AlreadyExistsError("An operation with id 'x' already exists in this team.", { target: "id" }),
    status: 409,
    code: "nameAlreadyExists",
    message: "An operation with id 'x' already exists in this team.",
    target: "id",
  },
  {
    error: new RuleViolationError("The status cannot move from succeeded to failed.", { target: "status" }),
    status: 409,
    code: "notAllowed",
    message: "The status cannot move from succeeded to failed.",
    target: "status",
  },
  {
    error: new PreconditionFailedError(),
    status: 412,
    code: "resourceModified",
    message: "The operation has changed since the ETag given in If-Match.",
  },
  {
    error: new ThrottledError("The store is busy; retry after the time given.", 7),
    status: 429,
    code: "activityLimitReached",
    message: "The store is busy; retry after the time given.",
    headers: { "Retry-After": "7" },
  },
  {
    error: new UnavailableError("The store is not available; retry later.", 5),
    status: 503,
    code: "serviceNotAvailable",
    message: "The store is not available; retry later.",
    headers: { "Retry-After": "5" },
  },
  {
    error: new StoreRejectedError({ cause: new Error("403 from the store") }),
    status: 500,
    code: "generalException",
    message: "The store rejected the request.",
  },
];

describe("the mapping of the store's and the domain's errors to Graph errors", () => {
  it.each(table.map((row) => [row.error.name, row] as const))("maps %s", (_, row) => {
    const mapped = graphErrorOf(row.error);
    expect(mapped).toBeInstanceOf(GraphError);
    expect({
      status: mapped!.status,
      code: mapped!.code,
      message: mapped!.message,
      target: mapped!.target,
      details: mapped!.details,
      headers: mapped!.headers,
    }).toEqual({
      status: row.status,
      code: row.code,
      message: row.message,
      target: row.target,
      details: row.details ?? [],
      headers: row.headers ?? {},
    });
  });

  it("covers every error type once, each with its own stable code", () => {
    const codes = table.map((row) => row.error.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes.sort()).toEqual(
      [
        "accessDenied",
        "alreadyExists",
        "invalidContinuation",
        "invalidInput",
        "notFound",
        "preconditionFailed",
        "quotaExceeded",
        "ruleViolation",
        "storeRejected",
        "throttled",
        "unavailable",
        "unsupported",
      ].sort(),
    );
  });

  it("calls a refusal what the request asked for, and a fault what the service could not do: only faults are 429 or 5xx", () => {
    for (const { error, status } of table) {
      expect(error instanceof Refusal, error.name).toBe(status < 500 && status !== 429);
      expect(error instanceof Fault, error.name).toBe(!(error instanceof Refusal));
    }
  });

  it("keeps each error's name through a minified bundle, where class names are not kept", () => {
    for (const { error } of table) expect(error.name).toBe(error.constructor.name);
  });

  it("makes an error of a kind the mapping does not know fail the type check (and, unchecked, a 500, never a crash)", () => {
    class BrandNewError extends Refusal {
      override readonly name = "BrandNewError";
      // @ts-expect-error: a new kind of error is added to KnownErrors (errors.ts), and then the mapping must map it.
      readonly code = "brandNew";
    }
    expect(graphErrorOf(new BrandNewError("Something new."))).toBeUndefined();
  });

  it("passes a Graph error through as it is, and knows nothing of any other error (a bug: the pipeline's 500)", () => {
    const graph = badRequest("The teamId in the path must be a GUID.", { target: "teamId" });
    expect(graphErrorOf(graph)).toBe(graph);
    expect(graphErrorOf(new Error("a bug"))).toBeUndefined();
    expect(graphErrorOf(Object.assign(new Error("conflict"), { status: 409 }))).toBeUndefined();
    expect(graphErrorOf("a string")).toBeUndefined();
  });
});
