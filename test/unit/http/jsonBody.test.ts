/** The body guard on bytes: UTF-8, not blank, well-formed JSON, then the structure checks. */
import { describe, expect, it } from "vitest";
import { badRequest } from "../../../shared/http/graphError.js";
import { decodeUtf8, parseJsonBody } from "../../../shared/http/jsonBody.js";
import { refusal } from "../../support/refusal.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("decodeUtf8", () => {
  it("decodes UTF-8, dropping one leading byte-order mark", () => {
    expect(decodeUtf8(bytes('{"a":"é😀"}'))).toBe('{"a":"é😀"}');
    expect(decodeUtf8(Uint8Array.from([0xef, 0xbb, 0xbf, 0x31]))).toBe("1");
    expect(decodeUtf8(Uint8Array.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]))).toBe("\ufeff");
  });

  it("decodes a view into a larger buffer from its own offset", () => {
    const whole = bytes('xx{"a":1}yy');
    expect(decodeUtf8(whole.subarray(2, 9))).toBe('{"a":1}');
  });

  it("gives nothing for bytes that are not UTF-8 (overlong, surrogate, truncated)", () => {
    for (const bad of [[0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xff]]) {
      expect(decodeUtf8(Uint8Array.from(bad)), String(bad)).toBeUndefined();
    }
  });
});

describe("parseJsonBody", () => {
  it("gives the parsed value of a good body", () => {
    expect(parseJsonBody(bytes('{"operationType":"cloneTeam","attemptsCount":0}'))).toEqual({
      operationType: "cloneTeam",
      attemptsCount: 0,
    });
  });

  it("refuses bytes that are not UTF-8, and JSON that is not well-formed", () => {
    expect(refusal(() => parseJsonBody(Uint8Array.from([0x7b, 0xff, 0x7d]))).message).toBe(
      "The request body is not valid UTF-8.",
    );
    expect(refusal(() => parseJsonBody(bytes('{"a":1,}'))).message).toBe("The request body is not well-formed JSON.");
  });

  it("refuses a blank body with the error it is given (or its own)", () => {
    expect(refusal(() => parseJsonBody(bytes(" \n"))).message).toBe(
      "The request body is empty; a JSON object is required.",
    );
    expect(refusal(() => parseJsonBody(new Uint8Array(), () => badRequest("Nothing came."))).message).toBe(
      "Nothing came.",
    );
  });

  it("runs the structure checks on what JSON.parse accepted", () => {
    expect(refusal(() => parseJsonBody(bytes('{"a":1,"a":2}'))).details[0]?.code).toBe("duplicateProperty");
    expect(refusal(() => parseJsonBody(bytes('{"constructor":{}}'))).details[0]?.code).toBe("forbiddenProperty");
  });
});
