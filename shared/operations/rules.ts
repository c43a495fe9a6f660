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
 * `attemptsCount` never decreases. A failed operation needs an error that says
 * something (a code or a message); otherwise `error` is the client's to set,
 * and a PATCH changes only what it names.
 * A client's `lastActionDateTime` is its record of when its job last acted:
 * any instant the representation can hold is kept as given, earlier than
 * `createdDateTime` or ahead of the server's clock included. What the server
 * decides rests on what it owns: `revision` (1 at create, one more at every
 * write) tells a created operation from an updated one, `changedDateTime` is
 * the server's time of the last write, and the sweeper reads the store's `_ts`.
 * Inconsistent input is an InvalidInputError naming each property; a change
 * the rules refuse is a RuleViolationError naming the property it concerns.
 */
import { createHash, randomUUID } from "node:crypto";
import { InvalidInputError, RuleViolationError, type ErrorDetail } from "../errors.js";
import { documentId, isFinished, type CreatedBy, type OperationDocument, type OperationStatus } from "./model.js";
import type { CreateOperationBody, UpdateOperationBody } from "./schema.js";
import { namesStoredInstant, toCanonicalUtc, utcNow } from "./timestamps.js";

export const TRANSITIONS: Readonly<Record<OperationStatus, readonly OperationStatus[]>> = {
  invalid: ["inProgress", "succeeded", "failed"],
  notStarted: ["inProgress", "succeeded", "failed"],
  inProgress: ["inProgress", "succeeded", "failed"],
  succeeded: [],
  failed: [],
  unknownFutureValue: [],
};

/**
 * What this service holds an operation to, or reads into what a client sends, beyond what Graph's metadata declares
 * for `teamsAsyncOperation`: each rule by a stable key. They are the deliberate differences
 * docs/graph-compatibility.md lists ("Deliberate differences"), and a test holds the two together: a rule here
 * without its row there, or a row without its rule, fails it. Every refusal below names its rule.
 */
export const OPERATION_RULES = {
  "status.forwardOnly": "Status moves forward only: nothing moves back to notStarted or invalid (409).",
  "status.finishedIsFinal": "A succeeded or failed operation never changes; sending what it holds is a no-op (409).",
  "attemptsCount.neverDecreases": "attemptsCount never decreases (409).",
  "error.failedSaysWhy": "A failed operation needs an error with a code or a message (400).",
  "error.emptyIsNone": "An error with neither a code nor a message is no error (null).",
  "readOnly.currentValueOnly":
    "PATCH may carry id, operationType and createdDateTime only with their current values (400 otherwise).",
  "lastActionDateTime.readBackIsUnchanged":
    "On PATCH, a lastActionDateTime that names the stored one through a millisecond Date is no change.",
} as const;
export type OperationRule = keyof typeof OPERATION_RULES;

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

/** Whether an error says something: a code or a message. */
export function saysSomething(error: OperationDocument["error"]): boolean {
  return Boolean(error && (error.code || error.message));
}

function refuseFailureWithoutError(status: OperationStatus, error: OperationDocument["error"]): void {
  if (status !== "failed" || saysSomething(error)) return;
  const details: ErrorDetail[] = [
    {
      code: "requiredProperty",
      target: "error",
      message: "A failed operation needs an error with a code or a message.",
    },
  ];
  throw new InvalidInputError(`The operation is not consistent: ${details[0]!.message}`, {
    details,
    rule: "error.failedSaysWhy" satisfies OperationRule,
  });
}

function violation(rule: OperationRule, message: string, target: string): RuleViolationError {
  return new RuleViolationError(message, { target, rule });
}

/** Builds the document for a validated create body: server-owned fields from the server, defaults applied. */
export function newOperationDocument(body: CreateOperationBody, ctx: CreateContext): OperationDocument {
  const now = ctx.now ?? new Date();
  const createdDateTime = utcNow(now);
  const operationId = body.id ?? ctx.defaultOperationId ?? randomUUID();
  const status = body.status ?? "notStarted";
  const error = storedError(body.error);
  // The schema has already checked the format; the conversion only normalises to UTC.
  const clientTime = body.lastActionDateTime ? toCanonicalUtc(body.lastActionDateTime) : undefined;
  refuseFailureWithoutError(status, error);
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
    revision: 1,
    changedDateTime: createdDateTime,
  };
  if (isFinished(status)) document.ttl = ctx.ttlSeconds;
  return document;
}

export interface UpdateResult {
  readonly document: OperationDocument;
  /** False when the change was already applied: nothing to write. */
  readonly changed: boolean;
}

/**
 * The error as stored: an error with neither a code nor a message is no error (`null`), which is also what the
 * Kiota SDKs send back for a null error they read (`{}`).
 */
function storedError(
  error: { code?: string | null; message?: string | null } | null | undefined,
): OperationDocument["error"] {
  if (!error) return null;
  const stored = { code: error.code ?? null, message: error.message ?? null };
  return stored.code === null && stored.message === null ? null : stored;
}

/**
 * The revision a write gives a document. One written before revisions existed counts as revised: its creation was
 * carried by the change feed long ago.
 */
function nextRevision(current: OperationDocument): number {
  return (current.revision ?? 1) + 1;
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
      { details: readOnly, rule: "readOnly.currentValueOnly" satisfies OperationRule },
    );
  }
  const next: OperationDocument = { ...current };
  if (changes.status !== undefined) next.status = changes.status;
  if (changes.attemptsCount !== undefined) next.attemptsCount = changes.attemptsCount;
  if (changes.targetResourceId !== undefined) next.targetResourceId = changes.targetResourceId;
  if (changes.targetResourceLocation !== undefined) next.targetResourceLocation = changes.targetResourceLocation;
  if (changes.error !== undefined) next.error = storedError(changes.error);
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
    throw violation(
      "status.finishedIsFinal",
      `The operation has ${current.status}; a finished operation cannot change.`,
      "status",
    );
  }
  if (next.status !== current.status && !TRANSITIONS[current.status].includes(next.status)) {
    throw violation("status.forwardOnly", `The status cannot move from ${current.status} to ${next.status}.`, "status");
  }
  if (next.attemptsCount < current.attemptsCount) {
    throw violation(
      "attemptsCount.neverDecreases",
      `attemptsCount cannot decrease (it is ${current.attemptsCount}).`,
      "attemptsCount",
    );
  }
  refuseFailureWithoutError(next.status, next.error);
  const changedDateTime = utcNow(ctx.now);
  if (!clientTime) next.lastActionDateTime = changedDateTime;
  next.changedDateTime = changedDateTime;
  next.revision = nextRevision(current);
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
