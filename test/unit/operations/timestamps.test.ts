import { describe, expect, it } from "vitest";
import { compareUtc, namesStoredInstant, toCanonicalUtc, utcNow } from "../../../shared/operations/timestamps.js";

describe("toCanonicalUtc", () => {
  it.each([
    ["2016-12-31T23:56:44.8542569+03:00", "2016-12-31T20:56:44.8542569Z"],
    ["2016-12-31T23:56:44Z", "2016-12-31T23:56:44.0000000Z"],
    ["2016-12-31t23:56:44.1z", "2016-12-31T23:56:44.1000000Z"],
    ["2016-12-31T23:56:44.123-05:30", "2017-01-01T05:26:44.1230000Z"],
    ["2024-02-29T00:00:00.0000001+00:00", "2024-02-29T00:00:00.0000001Z"],
    ["0001-01-01T00:30:00+00:00", "0001-01-01T00:30:00.0000000Z"],
    ["9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59.9999999Z"],
  ])("%s -> %s", (input, expected) => {
    expect(toCanonicalUtc(input)).toBe(expected);
  });

  it.each([
    "2016-12-31T23:56:44", // no offset
    "2016-12-31 23:56:44Z", // space separator
    "2016-12-31T23:56:44.12345678Z", // eight digits
    "2023-02-29T00:00:00Z", // not a leap year
    "2016-04-31T00:00:00Z",
    "2016-12-31T24:00:00Z",
    "2016-12-31T23:59:60Z", // leap second
    "2016-12-31T23:56:44+24:00",
    "0001-01-01T00:00:00+01:00", // before year 1 in UTC
    "9999-12-31T23:00:00-01:00", // after year 9999 in UTC
    "",
    "yesterday",
  ])("refuses %s", (input) => {
    expect(toCanonicalUtc(input)).toBeUndefined();
  });
});

describe("utcNow", () => {
  it("writes the server clock with seven fractional digits", () => {
    expect(utcNow(new Date("2026-11-28T19:14:46.165Z"))).toBe("2026-11-28T19:14:46.1650000Z");
    expect(utcNow(new Date("2026-11-28T19:14:46Z"))).toBe("2026-11-28T19:14:46.0000000Z");
  });

  it("sorts as text in time order", () => {
    const a = toCanonicalUtc("2026-01-01T00:00:00.0000001Z")!;
    const b = toCanonicalUtc("2026-01-01T00:00:00.00000011+00:00".replace("11+", "2+"))!;
    expect(compareUtc(a, b)).toBe(-1);
    expect(compareUtc(b, a)).toBe(1);
    expect(compareUtc(a, a)).toBe(0);
  });
});

describe("namesStoredInstant", () => {
  const stored = "2016-12-31T20:56:44.8542569Z";
  it.each([
    ["2016-12-31T20:56:44.8542569Z", true],
    ["2016-12-31T23:56:44.8542569+03:00", true],
    ["2016-12-31T20:56:44.854Z", true], // read back through a JavaScript Date
    ["2016-12-31T20:56:44.85Z", false],
    ["2016-12-31T20:56:44Z", false],
    ["2016-12-31T20:56:44.855Z", false],
    ["2016-12-31T20:56:44.8542Z", false], // more than milliseconds: must be exact
    ["not a date", false],
  ])("%s names %s: %s", (client, expected) => {
    expect(namesStoredInstant(client, stored)).toBe(expected);
  });

  it("a whole second names a stored whole second", () => {
    expect(namesStoredInstant("2016-12-31T20:56:44Z", "2016-12-31T20:56:44.0000000Z")).toBe(true);
    expect(namesStoredInstant("2016-12-31T20:56:44.000Z", "2016-12-31T20:56:44.0000000Z")).toBe(true);
  });
});
