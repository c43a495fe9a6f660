/**
 * Queue ingestion: event-driven callers send the same create and update
 * payloads as HTTP callers, in an envelope that names the tenant and team.
 * They go through the same schemas, rules and store code as HTTP requests.
 *
 * Trust: whoever can write to the queue is trusted to name the tenant (queue
 * access, granted through Azure RBAC, is the boundary; there is no token).
 *
 * Outcomes: applied or already applied (acknowledged); can never succeed
 * (`PoisonMessage`: not JSON, invalid, against a state rule, unknown
 * operation), which the function moves to the poison queue at once with the
 * reason (`poison.ts`); or transient (store throttled or down), which is thrown so the host
 * retries and, after maxDequeueCount, poisons it itself.
 */
import type { ErrorDetail } from "../http/graphError.js";
import { GraphError } from "../http/graphError.js";
import { bodyFingerprint, newOperationDocument, repeatableOperationId } from "../operations/rules.js";
import { parseCreateBody, parseUpdateBody, toDetails } from "../operations/schema.js";
import { createOperation, updateOperation } from "../operations/service.js";
import { validateCreateMessage, validateUpdateMessage } from "../operations/validators.generated.js";
import type { OperationStore } from "../store/operationStore.js";

export type InboxMessage =
  | { action: "create"; tenantId: string; teamId: string; operation: Record<string, unknown> }
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
}

/** Rejections that retrying cannot fix become poison; store faults (429, 503) stay errors, for the host to retry. */
function asPoison(error: unknown): never {
  if (error instanceof GraphError && error.status < 500 && error.status !== 429) {
    throw new PoisonMessage(error.code, error.message, error.details);
  }
  throw error;
}

/** Parses the trigger's payload: the host hands over an object for JSON messages and a string otherwise. */
export function parseInboxMessage(payload: unknown): InboxMessage {
  const value: unknown = typeof payload === "string" || Buffer.isBuffer(payload) ? tryJson(String(payload)) : payload;
  if (value === undefined) throw new PoisonMessage("notJson", "The message is not JSON.");
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

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Applies one inbox message. Idempotent: a redelivery changes nothing. */
export async function processInboxMessage(message: InboxMessage, ctx: InboxContext): Promise<InboxOutcome> {
  const tenantId = message.tenantId.toLowerCase();
  const teamId = message.teamId.toLowerCase();
  if (message.action === "create") {
    // Queue callers send no Prefer header; they are our own workers, so every enum member is accepted.
    let document;
    try {
      const body = parseCreateBody(message.operation, true);
      document = newOperationDocument(body, {
        tenantId,
        teamId,
        createdBy: { kind: "queue", objectId: undefined, appId: undefined },
        ttlSeconds: ctx.ttlSeconds,
        defaultOperationId: repeatableOperationId(tenantId, teamId, `queue:${ctx.messageId}`),
      });
      document.repeatability = { requestId: "queue:create", fingerprint: bodyFingerprint(body) };
    } catch (error) {
      asPoison(error);
    }
    const outcome = await createOperation(ctx.store, document).catch(asPoison);
    return { action: "create", operationId: document.operationId, teamId, changed: !outcome.replayed };
  }
  const key = { tenantId, teamId, operationId: message.operationId };
  try {
    const changes = parseUpdateBody(message.changes, true);
    const outcome = await updateOperation(ctx.store, key, changes, { ttlSeconds: ctx.ttlSeconds });
    return { action: "update", operationId: key.operationId, teamId, changed: outcome.changed };
  } catch (error) {
    return asPoison(error);
  }
}
