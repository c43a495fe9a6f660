import { describe, expect, it } from "vitest";
import { parseInboxMessage, PoisonMessage } from "../../../shared/events/inbox.js";

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

describe("the JSON checks of HTTP bodies, on queue messages", () => {
  const text = `{"action":"create","tenantId":"${TENANT}","teamId":"${TEAM}","operation":{"operationType":"cloneTeam"}}`;

  it("accepts a message as text, as bytes or as the value the host parsed", () => {
    for (const payload of [text, Buffer.from(text, "utf8"), JSON.parse(text) as unknown]) {
      expect(parseInboxMessage(payload)).toMatchObject({ action: "create", tenantId: TENANT });
    }
  });

  it("refuses a duplicated envelope or body key when the text is at hand (the host's parsed value has lost it)", () => {
    const twice = text.replace('"action":"create"', '"action":"update","action":"create"');
    for (const payload of [twice, Buffer.from(twice, "utf8")]) {
      const error = rejection(payload);
      expect(error.code).toBe("invalidRequest");
      expect(error.details).toEqual([
        { code: "duplicateProperty", target: "action", message: "'action' appears more than once." },
      ]);
    }
    expect(rejection(text.replace('"operationType"', '"operationType":"x","operationType"')).message).toMatch(
      /names the property 'operation.operationType' more than once/,
    );
  });

  it("refuses lone surrogates, deep nesting and prototype-polluting names in text and in parsed values", () => {
    const cases: Array<[string, RegExp]> = [
      [text.replace('"cloneTeam"', '"clone\\ud800Team"'), /lone surrogate/],
      [text.replace('"operationType"', '"\\udc00":1,"operationType"'), /lone surrogate/],
      [text.replace('{"operationType"', `{"a":${"[".repeat(40)}${"]".repeat(40)},"operationType"`), /deeper than 32/],
      [text.replace('{"operationType"', '{"__proto__":{"x":1},"operationType"'), /forbidden property name: __proto__/],
    ];
    for (const [message, reason] of cases) {
      expect(rejection(message).message).toMatch(reason);
      expect(rejection(JSON.parse(message) as unknown).message).toMatch(reason);
    }
  });

  it("refuses bytes that are not UTF-8", () => {
    expect(rejection(Buffer.from([0x7b, 0xff, 0x7d])).code).toBe("notUtf8");
  });
});
