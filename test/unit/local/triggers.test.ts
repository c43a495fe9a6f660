/**
 * Timer schedules as the Functions host reads them (NCrontab): six fields with
 * seconds first or five without, names for months and days, a day matching
 * both the day-of-month and the day-of-week fields, UTC.
 */
import { describe, expect, it } from "vitest";
import { ncrontab } from "../../../local/triggers.js";

const next = (expression: string, after: string) => ncrontab(expression).nextRun(new Date(after))?.toISOString();

describe("NCRONTAB schedules", () => {
  it("reads six fields with seconds first", () => {
    expect(next("0 */5 * * * *", "2030-01-01T12:03:10Z")).toBe("2030-01-01T12:05:00.000Z");
    expect(next("*/10 * * * * *", "2030-01-01T12:00:01Z")).toBe("2030-01-01T12:00:10.000Z");
    expect(next("30 15 9 * * *", "2030-01-01T09:15:30Z")).toBe("2030-01-02T09:15:30.000Z");
  });

  it("reads five fields as minutes first, at second 0", () => {
    expect(next("*/15 * * * *", "2030-01-01T12:03:10Z")).toBe("2030-01-01T12:15:00.000Z");
  });

  it("takes names for months and days of the week, ranges and lists", () => {
    // 2030-01-04 is a Friday.
    expect(next("0 0 9 * * Mon-Fri", "2030-01-04T10:00:00Z")).toBe("2030-01-07T09:00:00.000Z");
    expect(next("0 0 0 1 Jan,Jul *", "2030-02-01T00:00:00Z")).toBe("2030-07-01T00:00:00.000Z");
    expect(next("0 0 12 * * 0", "2030-01-01T00:00:00Z")).toBe("2030-01-06T12:00:00.000Z");
  });

  it("needs a day to match both the day of the month and the day of the week", () => {
    // Friday the 13th: September 2030, not every 13th nor every Friday.
    expect(next("0 0 0 13 * Fri", "2030-01-01T00:00:00Z")).toBe("2030-09-13T00:00:00.000Z");
  });

  it("refuses what is not an NCRONTAB expression", () => {
    for (const bad of ["", "* * * *", "0 0 0 1 1 * 2030", "61 * * * * *", "0 0 25 * * *", "x * * * * *"]) {
      expect(() => ncrontab(bad), bad).toThrow();
    }
  });
});
