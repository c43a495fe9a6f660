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
  properties: { action: { const: "create" }, ...envelope, operation: { type: "object" } },
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
