/**
 * Poison records: always the reason, always within what a queue message can
 * hold, the original in full when it fits, cut (with its length and SHA-256)
 * when it does not, and Base64 when its bytes are not UTF-8.
 */
import { createHash } from "node:crypto";
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { POISON_RECORD_MAX_BYTES, poisonRecord, toJson, type PoisonReason } from "../../../shared/events/poison.js";

const reason: PoisonReason = {
  code: "invalidMessage",
  message: "The message does not match the inbox format.",
  details: [],
};
const meta = { messageId: "m-1", dequeueCount: 1 };
const sha256 = (bytes: Buffer | string) => createHash("sha256").update(bytes).digest("hex");

function record(payload: unknown, why = reason): Record<string, any> {
  const text = poisonRecord(why, payload, meta);
  expect(Buffer.byteLength(text, "utf8")).toBeLessThanOrEqual(POISON_RECORD_MAX_BYTES);
  // What the queue holds: Base64 of the record, within 64 KiB.
  expect(Buffer.from(text, "utf8").toString("base64").length).toBeLessThanOrEqual(64 * 1024);
  return JSON.parse(text) as Record<string, any>;
}

describe("poison records", () => {
  it("keep a message that fits as it came, with the reason", () => {
    const message = { action: "update", changes: { status: "nope" } };
    expect(record(message)).toMatchObject({ reason, messageId: "m-1", dequeueCount: 1, message });
    expect(record("not json").message).toBe("not json");
  });

  it("cut a message that does not fit, saying so, with its length and hash", () => {
    // Control characters take six bytes each once escaped in JSON: 45,000 of them would make a 270 KB record.
    const text = "\u0001".repeat(45_000);
    const out = record(text);
    expect(out.reason).toEqual(reason);
    expect(out).toMatchObject({ messageTruncated: true, messageBytes: 45_000, messageSha256: sha256(text) });
    expect(text.startsWith(out.message as string)).toBe(true);
    expect((out.message as string).length).toBeGreaterThan(7_000);
  });

  it("write out a value nested too deeply for JSON.stringify", () => {
    const deep = JSON.parse(`${"[".repeat(20_000)}${"]".repeat(20_000)}`) as unknown;
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    expect(toJson(deep)).toBe(`${"[".repeat(20_000)}${"]".repeat(20_000)}`);
    const text = poisonRecord(reason, deep, meta);
    expect(text.endsWith(`,"message":${"[".repeat(20_000)}${"]".repeat(20_000)}}`)).toBe(true);
    expect(JSON.parse(text)).toMatchObject({ reason });
    const deeper = JSON.parse(`${"[".repeat(40_000)}${"]".repeat(40_000)}`) as unknown;
    const out = record(deeper);
    expect(out).toMatchObject({ messageTruncated: true, messageBytes: 80_000, messageSha256: sha256(toJson(deeper)) });
    expect(toJson(deeper).startsWith(String(out.messageJson))).toBe(true);
  });

  it("keep bytes that are not UTF-8 as Base64", () => {
    const bytes = Buffer.from([0x7b, 0xff, 0xfe, 0x22, 0xc3]);
    const out = record(bytes);
    expect(out.messageBase64).toBe(bytes.toString("base64"));
    expect(Buffer.from(out.messageBase64 as string, "base64")).toEqual(bytes);
    const large = Buffer.alloc(60_000, 0xff);
    expect(record(large)).toMatchObject({ messageTruncated: true, messageBytes: 60_000, messageSha256: sha256(large) });
    // Bytes that are UTF-8 are text.
    expect(record(Buffer.from("é", "utf8")).message).toBe("é");
  });

  it("keep the first details of a reason with many, and count the rest", () => {
    const details = Array.from({ length: 2_000 }, (_, i) => ({
      code: "unknownProperty",
      target: `p${i}${"x".repeat(1_000)}`,
      message: "Not a property of teamsAsyncOperation.",
    }));
    const out = record({ many: true }, { ...reason, details });
    expect(out.reason.details).toHaveLength(20);
    expect(out.reason.detailsOmitted).toBe(1_980);
    expect(out.message).toEqual({ many: true });
  });

  test.prop([fc.jsonValue()])("write JSON values as JSON.stringify does", (value) => {
    expect(toJson(value)).toBe(JSON.stringify(value));
  });

  test.prop([
    fc.oneof(
      fc.jsonValue(),
      fc.string({ unit: "binary", maxLength: 70_000 }),
      fc.uint8Array({ maxLength: 70_000 }),
      fc.string({ unit: fc.constantFrom("\u0000", "\u001f", '"', "\\", "\ud800", "é", "😀"), maxLength: 60_000 }),
    ),
  ])("are always valid JSON within the limit, with the reason", (payload) => {
    expect(record(payload).reason.code).toBe("invalidMessage");
  });
});
