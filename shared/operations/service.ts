/**
 * Creating and changing stored operations under the rules, with the store's
 * concurrency control. The one path for HTTP, queue and timer callers: each
 * adds only how it talks to its caller.
 */
import { conflict, ErrorCode, GraphError, notFound } from "../http/graphError.js";
import { preconditionFailed, type OperationStore } from "../store/operationStore.js";
import { trackOperationCreated, trackStatusChanged } from "../telemetry.js";
import type { OperationDocument, StoredOperation } from "./model.js";
import { applyUpdate } from "./rules.js";
import type { UpdateOperationBody } from "./schema.js";

/** How often an update re-reads and retries when a concurrent write got in first. */
const UPDATE_ATTEMPTS = 5;

export interface CreateOutcome {
  readonly stored: StoredOperation;
  /** True when this was a repeat of an earlier create (same repeatability id or fingerprint): nothing new stored. */
  readonly replayed: boolean;
}

/**
 * Stores a new operation. When the document carries a repeatability record and its id already exists, a
 * repeat of the same request returns the stored operation; a different request under the same id is a 409.
 */
export async function createOperation(store: OperationStore, document: OperationDocument): Promise<CreateOutcome> {
  try {
    const stored = await store.create(document);
    trackOperationCreated(stored.document.operationType, stored.document.status);
    return { stored, replayed: false };
  } catch (error) {
    const repeatability = document.repeatability;
    if (!(repeatability && error instanceof GraphError && error.status === 409)) throw error;
    const existing = await store.read(document.tenantId, document.teamId, document.operationId);
    const first = existing?.document.repeatability;
    if (!existing || first?.requestId !== repeatability.requestId) throw error;
    if (first.fingerprint !== repeatability.fingerprint) {
      throw conflict("This request id was already used for a different request.", {
        target: repeatability.requestId.startsWith("queue:") ? "operation" : "Repeatability-Request-ID",
      });
    }
    return { stored: existing, replayed: true };
  }
}

export interface UpdateOptions {
  readonly ttlSeconds: number;
  /** A client's If-Match: the update applies only to this version (no retry on conflict). */
  readonly ifMatch?: (storedEtag: string) => boolean;
}

export interface UpdateOutcome {
  readonly stored: StoredOperation;
  /** False when the change was already applied: nothing written. */
  readonly changed: boolean;
}

/**
 * Applies a change under the state rules as a compare-and-swap on the stored ETag. With a client's If-Match a
 * lost race is the client's 412; without one the update re-reads and retries, so concurrent updates are never lost.
 */
export async function updateOperation(
  store: OperationStore,
  key: { readonly tenantId: string; readonly teamId: string; readonly operationId: string },
  changes: UpdateOperationBody,
  options: UpdateOptions,
): Promise<UpdateOutcome> {
  for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
    const stored = await store.read(key.tenantId, key.teamId, key.operationId);
    if (!stored) throw notFound("The operation does not exist.");
    if (options.ifMatch && !options.ifMatch(stored.etag)) throw preconditionFailed();
    const result = applyUpdate(stored.document, changes, { ttlSeconds: options.ttlSeconds });
    if (!result.changed) return { stored, changed: false };
    try {
      const replaced = await store.replace(result.document, stored.etag);
      trackStatusChanged(stored.document.status, replaced.document.status);
      return { stored: replaced, changed: true };
    } catch (error) {
      const lostRace = error instanceof GraphError && error.status === 412;
      if (!lostRace || options.ifMatch) throw error;
    }
  }
  // Still losing after several rounds: a transient condition, so say when to come back.
  throw new GraphError(503, ErrorCode.serviceUnavailable, "The operation is being changed concurrently; retry.", {
    headers: { "Retry-After": "1" },
  });
}
