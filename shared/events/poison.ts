/**
 * What the poison queue receives for a message that can never succeed: the
 * reason, always, and the original message, as much of it as fits. A queue
 * message holds 64 KiB once Base64-encoded (as the host writes it), so a
 * record is at most POISON_RECORD_MAX_BYTES of UTF-8; past that the original
 * is cut, and the record says so and keeps its length and SHA-256. Bytes that
 * are not UTF-8 are kept as Base64. Writing the record never throws, whatever
 * the message held (a value nested too deeply for JSON.stringify included),
 * so a poisoned message is never retried for the sake of its record.
 */
import { createHash } from "node:crypto";
import type { ErrorDetail } from "../errors.js";

/** 64 KiB of Base64 is 48 KiB of bytes; a little is left for the host's own framing. */
export const POISON_RECORD_MAX_BYTES = 48_000;
/** Details kept in a record's reason; the rest are counted. */
const MAX_DETAILS = 20;
/** Characters kept of each message and target in a reason. */
const MAX_TEXT = 300;

export interface PoisonReason {
  readonly code: string;
  readonly message: string;
  readonly details: readonly ErrorDetail[];
}

export interface PoisonMeta {
  readonly messageId: string;
  readonly dequeueCount: number | undefined;
}

/** The original message as text: JSON for a value the host parsed, the string as it came, or Base64 of bytes. */
interface Original {
  readonly text: string;
  readonly form: "json" | "text" | "base64";
  /** The bytes the length and hash describe. */
  readonly bytes: Buffer;
}

function originalOf(payload: unknown): Original {
  if (payload instanceof Uint8Array) {
    const bytes = Buffer.from(payload);
    try {
      return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), form: "text", bytes };
    } catch {
      return { text: bytes.toString("base64"), form: "base64", bytes };
    }
  }
  if (typeof payload === "string") return { text: payload, form: "text", bytes: Buffer.from(payload, "utf8") };
  const text = toJson(payload);
  return { text, form: "json", bytes: Buffer.from(text, "utf8") };
}

/**
 * JSON text of a value as JSON.parse builds them (objects, arrays, strings, numbers, booleans, null), without
 * recursion: V8's JSON.stringify overflows its stack a few thousand levels down, and the host parses deeper.
 */
export function toJson(value: unknown): string {
  type Work = { readonly text: string } | { readonly value: unknown };
  const out: string[] = [];
  const work: Work[] = [{ value }];
  const later = (parts: Work[]) => {
    for (let i = parts.length - 1; i >= 0; i--) work.push(parts[i]!);
  };
  while (work.length > 0) {
    const item = work.pop()!;
    if ("text" in item) {
      out.push(item.text);
      continue;
    }
    const v = item.value;
    if (Array.isArray(v)) {
      later([
        { text: "[" },
        ...v.flatMap((element: unknown, i): Work[] => [...(i > 0 ? [{ text: "," }] : []), { value: element ?? null }]),
        { text: "]" },
      ]);
    } else if (typeof v === "object" && v !== null) {
      const entries = Object.entries(v).filter(([, element]) => element !== undefined);
      later([
        { text: "{" },
        ...entries.flatMap(([key, element], i): Work[] => [
          { text: `${i > 0 ? "," : ""}${JSON.stringify(key)}:` },
          { value: element },
        ]),
        { text: "}" },
      ]);
    } else {
      out.push(JSON.stringify(v) ?? "null");
    }
  }
  return out.join("");
}

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

function boundedReason(reason: PoisonReason): Record<string, unknown> {
  const details = reason.details.slice(0, MAX_DETAILS).map((d) => ({
    code: cut(d.code, MAX_TEXT),
    message: cut(d.message, MAX_TEXT),
    ...(d.target === undefined ? {} : { target: cut(d.target, MAX_TEXT) }),
  }));
  return {
    code: reason.code,
    message: cut(reason.message, 4 * MAX_TEXT),
    details,
    ...(reason.details.length > MAX_DETAILS ? { detailsOmitted: reason.details.length - MAX_DETAILS } : {}),
  };
}

/** The longest prefix of `text` whose JSON string literal takes at most `budget` bytes, cut between code points. */
function prefixWithin(text: string, budget: number): string {
  const size = (n: number) => Buffer.byteLength(JSON.stringify(text.slice(0, n)), "utf8");
  let low = 0;
  let high = Math.min(text.length, budget);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (size(mid) <= budget) low = mid;
    else high = mid - 1;
  }
  // Never end on the first half of a surrogate pair.
  const code = text.charCodeAt(low - 1);
  return code >= 0xd800 && code <= 0xdbff ? text.slice(0, low - 1) : text.slice(0, low);
}

/** The poison record for a message: always its reason, and the original in full or cut to fit. */
export function poisonRecord(reason: PoisonReason, payload: unknown, meta: PoisonMeta, now = new Date()): string {
  const head = {
    reason: boundedReason(reason),
    messageId: cut(meta.messageId, MAX_TEXT),
    dequeueCount: meta.dequeueCount,
    poisonedAt: now.toISOString(),
  };
  const headJson = JSON.stringify(head).slice(0, -1); // without its closing brace, to append the original
  let original: Original;
  try {
    original = originalOf(payload);
  } catch {
    return `${headJson},"messageUnavailable":"The message could not be written out."}`;
  }
  const whole =
    original.form === "base64"
      ? `${headJson},"messageBase64":${JSON.stringify(original.text)}}`
      : `${headJson},"message":${original.form === "json" ? original.text : JSON.stringify(original.text)}}`;
  if (Buffer.byteLength(whole, "utf8") <= POISON_RECORD_MAX_BYTES) return whole;

  const field = original.form === "base64" ? "messageBase64" : original.form === "json" ? "messageJson" : "message";
  const described = `${headJson},"messageTruncated":true,"messageBytes":${original.bytes.length},"messageSha256":"${createHash("sha256").update(original.bytes).digest("hex")}","${field}":`;
  const budget = POISON_RECORD_MAX_BYTES - Buffer.byteLength(described, "utf8") - 1;
  return `${described}${JSON.stringify(prefixWithin(original.text, budget))}}`;
}
