import { describe, expect, it } from "vitest";
import { graphErrorOf } from "../../../shared/http/errorMapping.js";
import { GraphError } from "../../../shared/http/graphError.js";
import { parseCreateBody } from "../../../shared/operations/schema.js";
import { SEED_BODY } from "../../support/seed.js";

function details(body: unknown, include = false): Array<{ code: string; target?: string }> {
  try {
    parseCreateBody(body, include);
  } catch (thrown) {
    // What the API answers for the refusal.
    const error = graphErrorOf(thrown);
    expect(error).toBeInstanceOf(GraphError);
    const graphError = error as GraphError;
    expect(graphError.status).toBe(400);
    return graphError.details.map(({ code, target }) => ({ code, target }));
  }
  return [];
}

describe("create body schema", () => {
  it("accepts the example body of Graph's generated reference", () => {
    const body = structuredClone(SEED_BODY);
    expect(parseCreateBody(body, false)).toBe(body);
  });

  it("accepts nulls where Graph allows them", () => {
    expect(
      details({ operationType: "cloneTeam", targetResourceId: null, targetResourceLocation: null, error: null }),
    ).toEqual([]);
  });

  it("names every offending property with its own code", () => {
    expect(
      details({
        operationType: 5,
        status: "done",
        createdDateTime: "x",
        extra: true,
        attemptsCount: "1",
        error: { message: 5 },
      }),
    ).toEqual(
      expect.arrayContaining([
        { code: "invalidType", target: "operationType" },
        { code: "invalidValue", target: "status" },
        { code: "readOnlyProperty", target: "createdDateTime" },
        { code: "unknownProperty", target: "extra" },
        { code: "invalidType", target: "attemptsCount" },
        { code: "invalidType", target: "error.message" },
      ]),
    );
  });

  it("refuses values it would otherwise have to coerce", () => {
    expect(details({ operationType: "cloneTeam", attemptsCount: true })).toEqual([
      { code: "invalidType", target: "attemptsCount" },
    ]);
    expect(details({ operationType: "cloneTeam", attemptsCount: 2 ** 31 })).toEqual([
      { code: "invalidValue", target: "attemptsCount" },
    ]);
    expect(details({ operationType: "cloneTeam", targetResourceId: 12 })).toEqual([
      { code: "invalidType", target: "targetResourceId" },
    ]);
  });

  it("never accepts unknownFutureValue and hides evolvable members without the opt-in", () => {
    expect(details({ operationType: "unknownFutureValue" }, true)).toEqual([
      { code: "invalidValue", target: "operationType" },
    ]);
    expect(details({ operationType: "createChannel" })).toEqual([{ code: "invalidValue", target: "operationType" }]);
    expect(details({ operationType: "createChannel" }, true)).toEqual([]);
  });

  it("checks client ids against the safe pattern", () => {
    expect(details({ operationType: "cloneTeam", id: "job-1.retry_2" })).toEqual([]);
    for (const id of ["", ".hidden", "a/b", "a b", "x".repeat(129), "é", "a\u0000b"]) {
      expect(details({ operationType: "cloneTeam", id })).toEqual([{ code: "invalidValue", target: "id" }]);
    }
  });

  it("refuses a body that is not an object", () => {
    for (const body of [null, [], "text", 3]) {
      expect(() => parseCreateBody(body, false)).toThrow("The request body must be a JSON object.");
    }
  });
});
