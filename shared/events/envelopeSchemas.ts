/**
 * JSON Schemas of the queue envelopes: plain data, compiled ahead of time by
 * `scripts/compile-validators.js`. `operation` and `changes` are then checked
 * by the HTTP schemas themselves.
 */
import { GUID_SOURCE } from "../ids.js";
import { OPERATION_ID_PATTERN } from "../operations/schemas.js";

const GUID_PATTERN = `^${GUID_SOURCE}$`;

const envelope = {
  tenantId: { type: "string", pattern: GUID_PATTERN },
  teamId: { type: "string", pattern: GUID_PATTERN },
} as const;

export const createMessageSchema = {
  $id: "createMessage",
  type: "object",
  additionalProperties: false,
  required: ["action", "tenantId", "teamId", "operation"],
  properties: {
    action: { const: "create" },
    ...envelope,
    operation: { type: "object" },
    // The id of the queue message this create was first sent as: a create without an operation id takes its id from
    // it, so a replay of a poisoned message (`npm run replay-poison`) creates what the first would have, once.
    messageId: { type: "string", minLength: 1, maxLength: 256 },
  },
} as const;

export const updateMessageSchema = {
  $id: "updateMessage",
  type: "object",
  additionalProperties: false,
  required: ["action", "tenantId", "teamId", "operationId", "changes"],
  properties: {
    action: { const: "update" },
    ...envelope,
    operationId: { type: "string", pattern: OPERATION_ID_PATTERN },
    changes: { type: "object" },
  },
} as const;
