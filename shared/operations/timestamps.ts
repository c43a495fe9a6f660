/**
 * Graph's DateTimeOffset on the wire: UTC with seven fractional digits
 * (`2026-11-28T19:14:46.1650000Z`), the precision of a .NET tick. JavaScript
 * dates stop at milliseconds, so the fraction is carried as text and never
 * passes through a Date: what a client sends with 100 ns precision comes back
 * with 100 ns precision. The fixed-width UTC form also sorts as text, which is
 * what the store relies on for ORDER BY and range filters.
 */

/** RFC 3339 date-time with a mandatory offset and at most seven fractional digits. */
export const RFC3339_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

const MINUTE_MS = 60_000;
/** The instants whose ISO form has a four-digit year, the canonical form's range. */
const YEAR_1_MS = Date.parse("0001-01-01T00:00:00Z");
const YEAR_10000_MS = Date.parse("+010000-01-01T00:00:00Z");
/** Days of each month in a common year. */
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

/** Formats whole UTC milliseconds (no sub-second part) plus a 7-digit fraction. */
function format(wholeSecondsMs: number, fraction7: string): string | undefined {
  const d = new Date(wholeSecondsMs);
  const year = d.getUTCFullYear();
  if (Number.isNaN(year) || year < 1 || year > 9999) return undefined;
  return (
    `${pad(year, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${fraction7}Z`
  );
}

/**
 * Converts an RFC 3339 date-time with offset to the canonical UTC form, or
 * returns undefined when it is not a real instant (Feb 30, hour 24, leap
 * second, year outside 0001-9999 after conversion).
 */
export function toCanonicalUtc(text: string): string | undefined {
  const m = RFC3339_WITH_OFFSET.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = "", z, sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const isLeap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const maxDay = month === 2 ? (isLeap ? 29 : 28) : DAYS_IN_MONTH[month - 1]!;
  if (day < 1 || day > maxDay) return undefined;
  let offsetMinutes = 0;
  if (!z) {
    const offH = Number(oh);
    const offM = Number(om);
    if (offH > 23 || offM > 59) return undefined;
    offsetMinutes = (sign === "-" ? -1 : 1) * (offH * 60 + offM);
  }
  // Already UTC: the canonical form is the text's own fields (fixed width), no Date needed.
  if (offsetMinutes === 0) return year < 1 ? undefined : `${y}-${mo}-${d}T${h}:${mi}:${s}.${frac.padEnd(7, "0")}Z`;
  const fraction = frac.padEnd(7, "0");
  // Date.UTC reads years 0-99 as 1900-1999: those go through setUTCFullYear.
  let localMs: number;
  if (year >= 100) {
    localMs = Date.UTC(year, month - 1, day, hour, minute, second);
  } else {
    const local = new Date(0);
    local.setUTCFullYear(year, month - 1, day);
    local.setUTCHours(hour, minute, second, 0);
    localMs = local.getTime();
  }
  const utcMs = localMs - offsetMinutes * MINUTE_MS;
  if (!(utcMs >= YEAR_1_MS && utcMs < YEAR_10000_MS)) return undefined;
  return `${new Date(utcMs).toISOString().slice(0, 19)}.${fraction}Z`;
}

/** The server clock in the canonical form (millisecond precision, padded to seven digits). */
export function utcNow(now: Date = new Date()): string {
  const ms = now.getTime();
  // Years 1-9999 (every clock this runs on): the ISO form is the canonical one to the millisecond.
  if (ms >= YEAR_1_MS && ms < YEAR_10000_MS) return `${now.toISOString().slice(0, 23)}0000Z`;
  const whole = ms - (((ms % 1000) + 1000) % 1000);
  const fraction = pad(ms - whole, 3) + "0000";
  return format(whole, fraction) as string;
}

/** Compares two canonical timestamps; they are fixed-width, so text order is time order. */
export function compareUtc(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Whether a client's date-time names the stored instant: exactly, or as read back through a JavaScript Date
 * (which keeps milliseconds and writes three digits) from a stored value with seven.
 */
export function namesStoredInstant(clientText: string, storedCanonical: string): boolean {
  const canonical = toCanonicalUtc(clientText);
  if (!canonical) return false;
  if (canonical === storedCanonical) return true;
  // Only the three digits a Date writes (toISOString) stand for a longer stored fraction.
  if (RFC3339_WITH_OFFSET.exec(clientText)?.[7]?.length !== 3) return false;
  // The canonical form is `yyyy-MM-ddTHH:mm:ss.` (20 characters), seven fractional digits, `Z`.
  return canonical === `${storedCanonical.slice(0, 23)}0000Z`;
}
