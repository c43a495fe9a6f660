/**
 * What a replay puts back on a queue for each poison message: the original of an inbox poison record (a create
 * keeping the id of the message it first came as), anything else as it is, and nothing for a record that kept only
 * part of its message.
 */
import { describe, expect, it } from "vitest";
import { poisonRecord } from "../../../shared/events/poison.js";
import { replayOf } from "../../../shared/events/replay.js";

const reason = { code: "serviceNotAvailable", message: "Still failing after 10 attempts.", details: [] };
const sent = (text: string) => {
  const replay = replayOf(text);
  if ("skip" in replay) throw new Error(`skipped: ${replay.skip}`);
  return replay.bytes.toString("utf8");
};

describe("replayOf", () => {
  it("unwraps a poisoned create and gives it the id of the message it first came as", () => {
    const create = { action: "create", tenantId: "t", teamId: "g", operation: { operationType: "cloneTeam" } };
    const record = poisonRecord(reason, create, { messageId: "m-1", dequeueCount: 10 });
    expect(JSON.parse(sent(record))).toEqual({ ...create, messageId: "m-1" });
  });

  it("keeps a replayed create's own messageId, and sends an update as it was", () => {
    const create = { action: "create", tenantId: "t", teamId: "g", operation: {}, messageId: "first" };
    expect(JSON.parse(sent(poisonRecord(reason, create, { messageId: "second", dequeueCount: 1 })))).toEqual(create);
    const update = { action: "update", tenantId: "t", teamId: "g", operationId: "o", changes: { status: "failed" } };
    expect(JSON.parse(sent(poisonRecord(reason, update, { messageId: "m", dequeueCount: 1 })))).toEqual(update);
  });

  it("sends the text or the bytes a record kept of a message that was not JSON", () => {
    expect(sent(poisonRecord(reason, "not json", { messageId: "m", dequeueCount: 1 }))).toBe("not json");
    const bytes = Uint8Array.from([0xff, 0xfe, 0x00]);
    const replay = replayOf(poisonRecord(reason, bytes, { messageId: "m", dequeueCount: 1 }));
    expect("bytes" in replay && [...replay.bytes]).toEqual([0xff, 0xfe, 0x00]);
  });

  it("sends as it is what is not an inbox record: the host's copy, an event, a notification batch", () => {
    for (const text of [
      '{"action":"create","tenantId":"t","teamId":"g","operation":{}}',
      '{"specversion":"1.0","id":"e","type":"microsoft.graph.teamsAsyncOperation.succeeded"}',
      '{"notificationUrl":"https://r.example/","resourceKey":"k","notifications":[],"retries":6}',
      '{"kind":"changes","documents":[],"reason":"x","deadLetteredAt":"2026-01-01T00:00:00.000Z"}',
      "plain text",
    ]) {
      expect(sent(text)).toBe(text);
    }
  });

  it("leaves in the poison queue a record that kept only the start of its message", () => {
    const huge = { action: "create", tenantId: "t", teamId: "g", operation: { targetResourceId: "x".repeat(60_000) } };
    const record = poisonRecord(reason, huge, { messageId: "m", dequeueCount: 1 });
    expect(JSON.parse(record).messageTruncated).toBe(true);
    expect(replayOf(record)).toEqual({ skip: expect.stringMatching(/kept only the start/) });
  });
});
