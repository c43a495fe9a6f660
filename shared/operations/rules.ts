/**
 * The operation rules, in one place: how a new operation is built, how an
 * existing one may change, and how `error` relates to `status`. Pure
 * functions of their inputs (the clock is a parameter), so the HTTP, queue
 * and timer paths share them and tests need no server.
 *
 * Status moves forward only:
 *   invalid | notStarted -> inProgress | succeeded | failed
 *   inProgress           -> inProgress | succeeded | failed
 *   succeeded, failed    -> final: any change is refused
 * `attemptsCount` never decreases. `error` describes the most recent failure:
 * it may be set while the operation runs (a failed attempt that will be
 * retried) and must be set when it has failed; a succeeded operation has no
 * error (moving to succeeded clears it; sending one with succeeded is invalid).
 * A client's `lastActionDateTime`, on create as on update, lies between
 * `createdDateTime` and the server's clock (plus MAX_CLOCK_SKEW_MS); nothing
 * the server decides (the sweeper) depends on it. Inconsistent input is an
 * InvalidInputError naming each property; a change the rules refuse is a
 * RuleViolationError naming the property it concerns.
 */
import { createHash, randomUUID } from "node:crypto";
import { InvalidInputError, RuleViolationError, type ErrorDetail } from "../errors.js";
import { documentId, isFinished, type CreatedBy, type OperationDocument, type OperationStatus } from "./model.js";
import type { CreateOperationBody, UpdateOperationBody } from "./schema.js";
import { compareUtc, namesStoredInstant, toCanonicalUtc, utcNow } from "./timestamps.js";

export const TRANSITIONS: Readonly<Record<OperationStatus, readonly OperationStatus[]>> = {
  invalid: ["inProgress", "succeeded", "failed"],
  notStarted: ["inProgress", "succeeded", "failed"],
  inProgress: ["inProgress", "succeeded", "failed"],
  succeeded: [],
  failed: [],
  unknownFutureValue: [],
};

export interface CreateContext {
  readonly tenantId: string;
  readonly teamId: string;
  readonly createdBy: CreatedBy;
  /** Seconds a finished operation lives before Cosmos DB expires it. */
  readonly ttlSeconds: number;
  readonly now?: Date;
  /** The id to use when the body has none (repeatable requests derive it from their request id). */
  readonly defaultOperationId?: string;
}

function errorRuleDetails(status: OperationStatus, error: OperationDocument["error"]): ErrorDetail[] {
  if (status === "succeeded" && error) {
    return [
      { code: "invalidValue", target: "error", message: "A succeeded operation has no error; send error: null." },
    ];
  }
  if (status === "failed" && !error) {
    return [
      { code: "requiredProperty", target: "error", message: "A failed operation needs an error {code, message}." },
    ];
  }
  return [];
}

/** How far ahead of the server's clock a client's lastActionDateTime may be: client clocks drift. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** A client's lastActionDateTime must not be before the operation was created, nor later than now (give or take skew). */
function lastActionDetails(value: string, createdDateTime: string, now: Date): ErrorDetail[] {
  if (compareUtc(value, createdDateTime) < 0) {
    return [
      {
        code: "invalidValue",
        target: "lastActionDateTime",
        message: `lastActionDateTime cannot be before createdDateTime (${createdDateTime}); leave it out to use the server's time.`,
      },
    ];
  }
  if (compareUtc(value, utcNow(new Date(now.getTime() + MAX_CLOCK_SKEW_MS))) > 0) {
    return [
      {
        code: "invalidValue",
        target: "lastActionDateTime",
        message: `lastActionDateTime cannot be in the future (more than ${MAX_CLOCK_SKEW_MS / 60_000} minutes ahead of the server's clock).`,
      },
    ];
  }
  return [];
}

function throwIfAny(details: ErrorDetail[]): void {
  if (details.length > 0) {
    throw new InvalidInputError(`The operation is not consistent: ${details.map((d) => d.message).join(" ")}`, {
      details,
    });
  }
}

/** Builds the document for a validated create body: server-owned fields from the server, defaults applied. */
export function newOperationDocument(body: CreateOperationBody, ctx: CreateContext): OperationDocument {
  const now = ctx.now ?? new Date();
  const createdDateTime = utcNow(now);
  const operationId = body.id ?? ctx.defaultOperationId ?? randomUUID();
  const status = body.status ?? "notStarted";
  const error = body.error ? { code: body.error.code, message: body.error.message ?? null } : null;
  // The schema has already checked the format; the conversion only normalises to UTC.
  const clientTime = body.lastActionDateTime ? toCanonicalUtc(body.lastActionDateTime) : undefined;
  throwIfAny([
    ...errorRuleDetails(status, error),
    ...(clientTime ? lastActionDetails(clientTime, createdDateTime, now) : []),
  ]);
  const document: OperationDocument = {
    id: documentId(ctx.tenantId, operationId),
    teamId: ctx.teamId,
    tenantId: ctx.tenantId,
    operationId,
    operationType: body.operationType,
    status,
    createdDateTime,
    lastActionDateTime: clientTime ?? createdDateTime,
    attemptsCount: body.attemptsCount ?? 0,
    targetResourceId: body.targetResourceId ?? null,
    targetResourceLocation: body.targetResourceLocation ?? null,
    error,
    createdBy: ctx.createdBy,
  };
  if (isFinished(status)) document.ttl = ctx.ttlSeconds;
  return document;
}

export interface UpdateResult {
  readonly document: OperationDocument;
  /** False when the change was already applied: nothing to write. */
  readonly changed: boolean;
}

function sameError(a: OperationDocument["error"], b: OperationDocument["error"]): boolean {
  return a === b || (a !== null && b !== null && a.code === b.code && a.message === b.message);
}

/** The read-only properties a PATCH sent back with a value other than the stored one. */
function readOnlyDetails(current: OperationDocument, unchanged: UpdateOperationBody["unchanged"]): ErrorDetail[] {
  if (!unchanged) return [];
  const differs = [
    unchanged.id !== undefined && unchanged.id !== current.operationId ? "id" : undefined,
    unchanged.operationType !== undefined && unchanged.operationType !== current.operationType
      ? "operationType"
      : undefined,
    unchanged.createdDateTime !== undefined && !namesStoredInstant(unchanged.createdDateTime, current.createdDateTime)
      ? "createdDateTime"
      : undefined,
  ].filter((name): name is string => name !== undefined);
  return differs.map((target) => ({
    code: "readOnlyProperty",
    target,
    message: `The property '${target}' is read-only: it may be sent only with its current value.`,
  }));
}

/**
 * Applies a validated PATCH body to an operation under the state rules. Read-only properties sent back
 * must hold their current values; a lastActionDateTime that names the current one (as read back through a
 * millisecond clock) is no change, so a read-modify-write that changes nothing is a no-op.
 */
export function applyUpdate(
  current: OperationDocument,
  changes: UpdateOperationBody,
  ctx: { readonly ttlSeconds: number; readonly now?: Date },
): UpdateResult {
  const readOnly = readOnlyDetails(current, changes.unchanged);
  if (readOnly.length > 0) {
    throw new InvalidInputError(
      `Read-only properties differ from the operation's: ${readOnly.map((d) => d.target).join(", ")}.`,
      { details: readOnly },
    );
  }
  const next: OperationDocument = { ...current };
  if (changes.status !== undefined) next.status = changes.status;
  if (changes.attemptsCount !== undefined) next.attemptsCount = changes.attemptsCount;
  if (changes.targetResourceId !== undefined) next.targetResourceId = changes.targetResourceId;
  if (changes.targetResourceLocation !== undefined) next.targetResourceLocation = changes.targetResourceLocation;
  if (changes.error !== undefined) {
    next.error = changes.error ? { code: changes.error.code, message: changes.error.message ?? null } : null;
  }
  const clientTime =
    changes.lastActionDateTime && !namesStoredInstant(changes.lastActionDateTime, current.lastActionDateTime)
      ? toCanonicalUtc(changes.lastActionDateTime)
      : undefined;
  if (clientTime) next.lastActionDateTime = clientTime;

  const changed =
    next.status !== current.status ||
    next.attemptsCount !== current.attemptsCount ||
    next.targetResourceId !== current.targetResourceId ||
    next.targetResourceLocation !== current.targetResourceLocation ||
    !sameError(next.error, current.error) ||
    next.lastActionDateTime !== current.lastActionDateTime;
  if (!changed) return { document: current, changed: false };

  if (isFinished(current.status)) {
    throw new RuleViolationError(`The operation has ${current.status}; a finished operation cannot change.`, {
      target: "status",
    });
  }
  if (next.status !== current.status && !TRANSITIONS[current.status].includes(next.status)) {
    throw new RuleViolationError(`The status cannot move from ${current.status} to ${next.status}.`, {
      target: "status",
    });
  }
  if (next.attemptsCount < current.attemptsCount) {
    throw new RuleViolationError(`attemptsCount cannot decrease (it is ${current.attemptsCount}).`, {
      target: "attemptsCount",
    });
  }
  if (next.status === "succeeded" && changes.error === undefined) next.error = null;
  throwIfAny([
    ...(clientTime ? lastActionDetails(clientTime, current.createdDateTime, ctx.now ?? new Date()) : []),
    ...errorRuleDetails(next.status, next.error),
  ]);
  if (!clientTime) next.lastActionDateTime = utcNow(ctx.now);
  if (isFinished(next.status)) next.ttl = ctx.ttlSeconds;
  return { document: next, changed: true };
}

/** A GUID derived from the given parts (SHA-256, shaped as a version-8, custom, UUID): the same parts, the same id. */
export function derivedGuid(...parts: readonly string[]): string {
  const hex = createHash("sha256").update(parts.join("\n")).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The operation id of a repeatable create (Repeatability-Request-ID) without a
 * client id: derived from the tenant, team and request id, so every retry
 * addresses the same document and the store's unique ids make it stored once.
 */
export function repeatableOperationId(tenantId: string, teamId: string, requestId: string): string {
  return derivedGuid(tenantId, teamId, requestId);
}

/** A stable fingerprint of a create body, to tell a retry from a different request under the same id. */
export function bodyFingerprint(body: unknown): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === "object"
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
          )
        : value;
  return createHash("sha256")
    .update(JSON.stringify(canonical(body)))
    .digest("base64url");
}
