import { describe, expect, it } from "vitest";
import { NotFoundError, StoreRejectedError, ThrottledError, UnavailableError } from "../../../shared/errors.js";
import { cosmosFailure, storeFault } from "../../../shared/store/cosmos.js";

/** A failure as @azure/cosmos reports one: an ErrorResponse with the status in `code`. */
const cosmosError = (code: number | undefined, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`status ${code}`), { code, ...extra });

describe("what the store makes of a Cosmos DB failure no method expects", () => {
  it("is throttled with the store's own hint, in whole seconds, at least one", () => {
    const slow = storeFault(cosmosError(429, { retryAfterInMs: 1500 }));
    expect(slow).toBeInstanceOf(ThrottledError);
    expect((slow as ThrottledError).retryAfterSeconds).toBe(2);
    expect((storeFault(cosmosError(429, { retryAfterInMs: 10 })) as ThrottledError).retryAfterSeconds).toBe(1);
    expect((storeFault(cosmosError(429)) as ThrottledError).retryAfterSeconds).toBe(1);
  });

  it("is unavailable, retry in 5 s, without an answer, on a timeout, a retry-with and a server error", () => {
    for (const code of [undefined, 408, 449, 500, 502, 503]) {
      const error = storeFault(cosmosError(code));
      expect(error, String(code)).toBeInstanceOf(UnavailableError);
      expect((error as UnavailableError).retryAfterSeconds).toBe(5);
    }
    expect(storeFault(new Error("socket hang up"))).toBeInstanceOf(UnavailableError);
  });

  it("is rejected for every other answer, keeping the store's error as the cause", () => {
    for (const code of [400, 401, 403, 404, 409, 412, 413]) {
      const cause = cosmosError(code);
      const error = storeFault(cause);
      expect(error, String(code)).toBeInstanceOf(StoreRejectedError);
      expect(error.cause).toBe(cause);
    }
  });

  it("passes the store's own errors through as they are", () => {
    const gone = new NotFoundError("The operation does not exist.");
    expect(storeFault(gone)).toBe(gone);
  });

  it("reads each status code in one place", () => {
    expect(
      [400, 404, 409, 412, 429, 500, 408, 449, 503, undefined, 403].map((c) => cosmosFailure(cosmosError(c))),
    ).toEqual([
      "badRequest",
      "notFound",
      "conflict",
      "preconditionFailed",
      "throttled",
      "internalError",
      "unavailable",
      "unavailable",
      "unavailable",
      "unavailable",
      "refused",
    ]);
  });
});
