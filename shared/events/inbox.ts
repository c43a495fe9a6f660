/**
 * Queue ingestion: event-driven callers send the same create and update
 * payloads as HTTP callers, in an envelope that names the tenant and team.
 * They go through the same schemas, rules and store code as HTTP requests.
 *
 * Trust: whoever can write to the queue is trusted to name the tenant (queue
 * access, granted through Azure RBAC, is the boundary; there is no token),
 * within the same tenant allow-list as tokens (AUTH_TENANTS), and the same
 * JSON checks as HTTP bodies apply (see docs/security.md). The operations it
 * creates record the queue and the message as their creator.
 *
 * Outcomes: applied or already applied (acknowledged); can never succeed
 * (`PoisonMessage`: not JSON, invalid, against a state rule, unknown
 * operation), which the function moves to the poison queue at once with the
 * reason (`poison.ts`); or transient (store throttled or down), which is thrown so the host
 * retries and, after maxDequeueCount, poisons it itself. What a refusal is
 * called is what the HTTP API answers for the same body (`errorMapping.ts`).
 */
import { Refusal, type ErrorDetail } from "../errors.js";
import { graphErrorOf } from "../http/errorMapping.js";
import { checkJsonStructure, checkJsonValue } from "../http/jsonStructure.js";
import { bodyFingerprint, newOperationDocument, repeatableOperationId } from "../operations/rules.js";
import { parseCreateBody, parseUpdateBody, toDetails } from "../operations/schema.js";
import { createStoredOperation, updateStoredOperation } from "../operations/service.js";
import { validateCreateMessage, validateUpdateMessage } from "../operations/validators.generated.js";
import type { OperationStore } from "../store/operations.js";

export type InboxMessage =
  | {
      action: "create";
      tenantId: string;
      teamId: string;
      operation: Record<string, unknown>;
      /** The id of the message this one replays (set by `npm run replay-poison`), standing for its own. */
      messageId?: string;
    }
  | { action: "update"; tenantId: string; teamId: string; operationId: string; changes: Record<string, unknown> };

/** A message that can never succeed: it goes to the poison queue with this reason. */
export class PoisonMessage extends Error {
  readonly code: string;
  readonly details: readonly ErrorDetail[];
  constructor(code: string, message: string, details: readonly ErrorDetail[] = []) {
    super(message);
    this.name = "PoisonMessage";
    this.code = code;
    this.details = details;
  }
}

export interface InboxOutcome {
  readonly action: "create" | "update";
  readonly operationId: string;
  readonly teamId: string;
  /** False for a redelivered create or an update that was already applied. */
  readonly changed: boolean;
}

export interface InboxContext {
  readonly store: OperationStore;
  readonly ttlSeconds: number;
  /** The queue message id: stable across redeliveries, so a create without an id is stored once. */
  readonly messageId: string;
  /** The queue the message came from, recorded as the creator of what it creates. */
  readonly queueName: string;
  /** The tenants accepted (AUTH_TENANTS), as for tokens: `"*"` or the allow-list, lower-cased. */
  readonly tenants: readonly string[] | "*";
}

/**
 * A message whose last attempt failed for a reason retrying could have fixed (the store throttled or down): poisoned
 * with what an HTTP caller would have been told (503 serviceNotAvailable, 429 activityLimitReached), so that it can
 * be replayed once the cause is gone (`npm run replay-poison`).
 */
export function retriesExhausted(error: unknown, attempts: number): PoisonMessage {
  const told = graphErrorOf(error);
  const why = told ? told.message : "An unexpected error occurred.";
  return new PoisonMessage(told?.code ?? "generalException", `Still failing after ${attempts} attempts: ${why}`);
}

/**
 * Refusals, which retrying cannot fix, become poison with the Graph error an HTTP caller would get; faults (the store
 * throttled, down or failing) and anything unknown stay errors, for the host to retry.
 */
function asPoison(error: unknown): never {
  const refused = error instanceof Refusal ? graphErrorOf(error) : undefined;
  if (refused) throw new PoisonMessage(refused.code, refused.message, refused.details);
  throw error;
}

/**
 * Parses the trigger's payload with the checks HTTP bodies get. The host hands over the parsed value for a JSON
 * message and the text otherwise (bytes, if asked for them): text and bytes get every check of an HTTP body; a
 * parsed value gets those it still allows (nesting, lone surrogates, prototype-polluting names), since JSON.parse
 * has already kept only the last of duplicate names.
 */
export function parseInboxMessage(payload: unknown): InboxMessage {
  const value = messageValue(payload);
  const action = typeof value === "object" && value !== null ? (value as { action?: unknown }).action : undefined;
  const validate =
    action === "create" ? validateCreateMessage : action === "update" ? validateUpdateMessage : undefined;
  if (!validate) {
    throw new PoisonMessage("invalidMessage", "The message's action must be create or update.", [
      { code: "invalidValue", target: "action", message: "create or update" },
    ]);
  }
  if (!validate(value)) {
    const details = toDetails(validate.errors, new Set());
    throw new PoisonMessage("invalidMessage", "The message does not match the inbox format.", details);
  }
  // The envelope schemas (envelopeSchemas.ts) describe InboxMessage.
  return value as InboxMessage;
}

function messageValue(payload: unknown): unknown {
  if (payload instanceof Uint8Array) {
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(payload);
    } catch {
      throw new PoisonMessage("notUtf8", "The message is not valid UTF-8.");
    }
    return parseText(text);
  }
  if (typeof payload === "string") return parseText(payload);
  try {
    checkJsonValue(payload, "The message");
  } catch (error) {
    asPoison(error);
  }
  return payload;
}

function parseText(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new PoisonMessage("notJson", "The message is not JSON.");
  }
  try {
    checkJsonStructure(text, "The message");
  } catch (error) {
    asPoison(error);
  }
  return value;
}

/** Applies one inbox message. Idempotent: a redelivery changes nothing. */
export async function processInboxMessage(message: InboxMessage, ctx: InboxContext): Promise<InboxOutcome> {
  const tenantId = message.tenantId.toLowerCase();
  const teamId = message.teamId.toLowerCase();
  if (ctx.tenants !== "*" && !ctx.tenants.includes(tenantId)) {
    throw new PoisonMessage("accessDenied", `The tenant ${tenantId} is not one this service accepts (AUTH_TENANTS).`, [
      { code: "invalidValue", target: "tenantId", message: "Not an accepted tenant." },
    ]);
  }
  if (message.action === "create") {
    // Queue callers send no Prefer header; they are our own workers, so every enum member is accepted.
    const messageId = message.messageId ?? ctx.messageId;
    let document;
    try {
      const body = parseCreateBody(message.operation, true);
      document = newOperationDocument(body, {
        tenantId,
        teamId,
        createdBy: {
          kind: "queue",
          objectId: undefined,
          appId: undefined,
          queue: ctx.queueName,
          messageId,
        },
        ttlSeconds: ctx.ttlSeconds,
        defaultOperationId: repeatableOperationId(tenantId, teamId, `queue:${messageId}`),
      });
      document.repeatability = { requestId: "queue:create", fingerprint: bodyFingerprint(body) };
    } catch (error) {
      asPoison(error);
    }
    const outcome = await createStoredOperation(ctx.store, document).catch(asPoison);
    return { action: "create", operationId: document.operationId, teamId, changed: !outcome.replayed };
  }
  const key = { tenantId, teamId, operationId: message.operationId };
  try {
    const changes = parseUpdateBody(message.changes, true);
    const outcome = await updateStoredOperation(ctx.store, key, changes, { ttlSeconds: ctx.ttlSeconds });
    return { action: "update", operationId: key.operationId, teamId, changed: outcome.changed };
  } catch (error) {
    return asPoison(error);
  }
}
