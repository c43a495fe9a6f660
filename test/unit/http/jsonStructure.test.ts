/**
 * The structure checks JSON.parse does not make: property names given twice, lone surrogates, nesting, and
 * names that could pollute prototypes; on text (`checkJsonStructure`) and on parsed values (`checkJsonValue`).
 */
import { describe, expect, it } from "vitest";
import { MAX_BODY_DEPTH, checkJsonStructure, checkJsonValue } from "../../../shared/http/jsonStructure.js";
import { refusal } from "../../support/refusal.js";

const nested = (depth: number) => `${"[".repeat(depth)}1${"]".repeat(depth)}`;

describe("checkJsonStructure: property names given twice", () => {
  it("refuses a name given twice in one object, naming its path", () => {
    const error = refusal(() => checkJsonStructure('{"error":{"code":"a","code":"b"}}'));
    expect(error.status).toBe(400);
    expect(error.message).toBe("The request body names the property 'error.code' more than once.");
    expect(error.target).toBe("error.code");
    expect(error.details).toEqual([
      { code: "duplicateProperty", target: "error.code", message: "'error.code' appears more than once." },
    ]);
  });

  it("compares names as JSON reads them: an escaped spelling is the same name", () => {
    expect(refusal(() => checkJsonStructure('{"status":1,"\\u0073tatus":2}')).target).toBe("status");
    expect(refusal(() => checkJsonStructure('{"a\\"b":1, "a\\u0022b":2}')).target).toBe('a"b');
  });

  it("allows the same name in different objects, and strings that look like names", () => {
    expect(() => checkJsonStructure('{"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":2}]}')).not.toThrow();
    expect(() => checkJsonStructure('{"a":"a","b":["a","a"]}')).not.toThrow();
    expect(() => checkJsonStructure('{"a":"\\\\","b" : "\\"x\\":"}')).not.toThrow();
  });

  it("names the subject it is given", () => {
    expect(refusal(() => checkJsonStructure('{"a":1,"a":2}', "The message")).message).toBe(
      "The message names the property 'a' more than once.",
    );
  });
});

describe("checkJsonStructure: lone surrogates", () => {
  it("refuses an escaped or raw lone surrogate, in a name or a value", () => {
    for (const text of ['{"a":"\\ud800"}', '{"\\udc00":1}', '["x\\ud83d"]', '{"a":"\ud800"}']) {
      expect(refusal(() => checkJsonStructure(text)).message, text).toBe(
        "The request body contains a string that is not valid Unicode (a lone surrogate).",
      );
    }
  });

  it("accepts surrogate pairs, escaped or not", () => {
    expect(() => checkJsonStructure('{"a":"\\ud83d\\ude00","b":"😀"}')).not.toThrow();
  });
});

describe("checkJsonStructure: nesting and forbidden names", () => {
  it(`allows ${MAX_BODY_DEPTH} levels of objects and arrays, and refuses one more`, () => {
    expect(() => checkJsonStructure(nested(MAX_BODY_DEPTH))).not.toThrow();
    expect(refusal(() => checkJsonStructure(nested(MAX_BODY_DEPTH + 1))).message).toBe(
      `The request body nests objects or arrays deeper than ${MAX_BODY_DEPTH} levels.`,
    );
    // Iterative: a body far deeper than the stack could recurse is refused, not a crash.
    expect(refusal(() => checkJsonStructure(nested(200_000))).status).toBe(400);
  });

  it("refuses names that could pollute prototypes, however spelled, listing each once", () => {
    const error = refusal(() =>
      checkJsonStructure('{"__proto__":{},"a":{"constructor":1,"prototype":2},"b":{"\\u005f_proto__":3}}'),
    );
    expect(error.message).toBe("The request body uses a forbidden property name: __proto__, constructor, prototype.");
    expect(error.details.map((d) => [d.code, d.target])).toEqual([
      ["forbiddenProperty", "__proto__"],
      ["forbiddenProperty", "constructor"],
      ["forbiddenProperty", "prototype"],
    ]);
  });

  it("allows those words as values", () => {
    expect(() => checkJsonStructure('{"a":"__proto__","b":["constructor"]}')).not.toThrow();
  });
});

describe("checkJsonValue (JSON that arrives parsed)", () => {
  it("refuses lone surrogates in names and strings, deep nesting and forbidden names", () => {
    expect(refusal(() => checkJsonValue({ a: ["\ud800"] }, "The message")).message).toBe(
      "The message contains a string that is not valid Unicode (a lone surrogate).",
    );
    expect(refusal(() => checkJsonValue({ "\udc00": 1 }, "The message")).status).toBe(400);
    expect(refusal(() => checkJsonValue(JSON.parse(nested(MAX_BODY_DEPTH + 1)), "The message")).message).toBe(
      `The message nests objects or arrays deeper than ${MAX_BODY_DEPTH} levels.`,
    );
    expect(refusal(() => checkJsonValue(JSON.parse('{"__proto__":1}'), "The message")).details).toEqual([
      { code: "forbiddenProperty", target: "__proto__", message: "'__proto__' is not allowed." },
    ]);
  });

  it("accepts what the structure scan accepts", () => {
    expect(() => checkJsonValue(JSON.parse(nested(MAX_BODY_DEPTH)), "The message")).not.toThrow();
    expect(() => checkJsonValue({ a: "😀", b: ["constructor"], c: null }, "The message")).not.toThrow();
  });
});
