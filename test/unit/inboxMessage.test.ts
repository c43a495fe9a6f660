import { describe, expect, it } from "vitest";
import { parseInboxMessage, PoisonMessage } from "../../shared/events/inbox.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const TEAM = "3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f";

function rejection(message: unknown): PoisonMessage {
  try {
    parseInboxMessage(message);
  } catch (error) {
    if (error instanceof PoisonMessage) return error;
    throw error;
  }
  throw new Error("the message was accepted");
}

describe("queue envelopes", () => {
  it("accepts a create and an update envelope", () => {
    expect(parseInboxMessage({ action: "create", tenantId: TENANT, teamId: TEAM, operation: {} })).toMatchObject({
      action: "create",
    });
    expect(
      parseInboxMessage({ action: "update", tenantId: TENANT, teamId: TEAM, operationId: "op-1", changes: {} }),
    ).toMatchObject({ action: "update", operationId: "op-1" });
  });

  it("says a tenant or team that is not a GUID must be a GUID", () => {
    const error = rejection({ action: "create", tenantId: "contoso", teamId: "team-1", operation: {} });
    expect(error.code).toBe("invalidMessage");
    expect(error.details).toEqual([
      { code: "invalidValue", target: "tenantId", message: "The property 'tenantId' must be a GUID." },
      { code: "invalidValue", target: "teamId", message: "The property 'teamId' must be a GUID." },
    ]);
  });

  it("says what an operation id may contain", () => {
    const error = rejection({ action: "update", tenantId: TENANT, teamId: TEAM, operationId: "a b", changes: {} });
    expect(error.details).toEqual([
      {
        code: "invalidValue",
        target: "operationId",
        message:
          "The property 'operationId' must be 1-128 letters, digits, '-', '_' or '.', starting with a letter or digit.",
      },
    ]);
  });
});
