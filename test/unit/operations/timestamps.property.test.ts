/**
 * Properties of the timestamp conversion: any RFC 3339 date-time with an
 * offset converts to the instant Date gives (to the millisecond) and keeps
 * every digit past it; the canonical form is a fixed point and sorts as time.
 */
import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";
import { compareUtc, toCanonicalUtc, utcNow } from "../../../shared/operations/timestamps.js";
import { dateTime } from "../../reliability/arbitraries.js";

test.prop([dateTime()], { numRuns: 2000 })("converts to the same instant as Date, keeping every digit", (d) => {
  const canonical = toCanonicalUtc(d.text);
  expect(canonical).toBe(d.canonical);
  expect(Date.parse(`${canonical!.slice(0, 23)}Z`)).toBe(d.instantMs);
  // Where Date can read the text itself (three fraction digits at most), it agrees.
  if (/\.\d{1,3}[Zz+-]|:\d\d[Zz+-]/.test(d.text)) expect(new Date(d.text.toUpperCase()).getTime()).toBe(d.instantMs);
});

test.prop([dateTime()])("the canonical form is a fixed point", (d) => {
  expect(toCanonicalUtc(d.canonical)).toBe(d.canonical);
});

test.prop([dateTime(), dateTime()])("canonical text sorts as the instants do", (a, b) => {
  const order = Math.sign(compareUtc(a.canonical, b.canonical));
  const byInstant = Math.sign(a.instantMs - b.instantMs);
  if (byInstant !== 0) expect(order).toBe(byInstant);
});

test.prop([
  fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true }),
])("the server clock round trips", (now) => {
  const text = utcNow(now);
  expect(toCanonicalUtc(text)).toBe(text);
  expect(Date.parse(`${text.slice(0, 23)}Z`)).toBe(now.getTime());
});

test.prop([fc.string({ maxLength: 40 })], { numRuns: 1000 })("never throws on arbitrary text", (text) => {
  const canonical = toCanonicalUtc(text);
  if (canonical !== undefined) expect(toCanonicalUtc(canonical)).toBe(canonical);
});
