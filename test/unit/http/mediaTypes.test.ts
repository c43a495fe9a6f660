/** Which request bodies count as JSON. */
import { describe, expect, it } from "vitest";
import { isJsonMediaType } from "../../../shared/http/mediaTypes.js";

describe("isJsonMediaType", () => {
  it("accepts application/json in any case, with UTF-8 or no charset, and other parameters", () => {
    for (const type of [
      "application/json",
      "Application/JSON",
      "application/json; charset=utf-8",
      'application/json;charset="UTF-8"',
      "application/json;odata.metadata=minimal;odata.streaming=true",
    ]) {
      expect(isJsonMediaType(type), type).toBe(true);
    }
  });

  it("refuses no type, other types and other charsets", () => {
    for (const type of [
      null,
      "",
      "text/json",
      "application/jsonp",
      "application/merge-patch+json",
      "text/plain",
      "application/json; charset=iso-8859-1",
      "application/json; charset=utf-16",
    ]) {
      expect(isJsonMediaType(type), String(type)).toBe(false);
    }
  });
});
