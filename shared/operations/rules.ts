/**
 * The operation rules: how a new operation is built from what a client sent.
 * Pure functions of their inputs (the clock is a parameter), so HTTP, queue
 * and timer paths share them and tests need no server.
 */
import { randomUUID } from "node:crypto";
import { documentId, isFinished, type CreatedBy, type OperationDocument } from "./model.js";
import type { CreateOperationBody } from "./schema.js";
import { toCanonicalUtc, utcNow } from "./timestamps.js";

export interface CreateContext {
  readonly tenantId: string;
  readonly teamId: string;
  readonly createdBy: CreatedBy;
  /** Seconds a finished operation lives before Cosmos DB expires it. */
  readonly ttlSeconds: number;
  readonly now?: Date;
}

/** Builds the document for a validated create body: server-owned fields from the server, defaults applied. */
export function newOperationDocument(body: CreateOperationBody, ctx: CreateContext): OperationDocument {
  const createdDateTime = utcNow(ctx.now);
  const operationId = body.id ?? randomUUID();
  const status = body.status ?? "notStarted";
  const document: OperationDocument = {
    id: documentId(ctx.tenantId, operationId),
    teamId: ctx.teamId,
    tenantId: ctx.tenantId,
    operationId,
    operationType: body.operationType,
    status,
    createdDateTime,
    // The schema has already checked the format; the conversion only normalises to UTC.
    lastActionDateTime: body.lastActionDateTime
      ? (toCanonicalUtc(body.lastActionDateTime) ?? createdDateTime)
      : createdDateTime,
    attemptsCount: body.attemptsCount ?? 0,
    targetResourceId: body.targetResourceId ?? null,
    targetResourceLocation: body.targetResourceLocation ?? null,
    error: body.error ? { code: body.error.code, message: body.error.message ?? null } : null,
    createdBy: ctx.createdBy,
  };
  if (isFinished(status)) document.ttl = ctx.ttlSeconds;
  return document;
}
