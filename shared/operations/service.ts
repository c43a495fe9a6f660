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
import { inTurn } from "./turns.js";
import type { UpdateOperationBody } from "./schema.js";

/**
 * How long an update without If-Match keeps re-reading and retrying when a write from another process got in first
 * (writers in this process take turns, `turns.ts`), with full-jitter exponential backoff between rounds.
 */
export const CONTENTION_BUDGET_MS = 10_000;
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 250;

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

export interface OperationKey {
  readonly tenantId: string;
  readonly teamId: string;
  readonly operationId: string;
}

const turnKey = (key: OperationKey) => `${key.tenantId}/${key.teamId}/${key.operationId}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Applies a change under the state rules as a compare-and-swap on the stored ETag, in its turn among this process's
 * writers of the operation. With a client's If-Match a lost race is the client's 412; without one the update
 * re-reads and retries, so concurrent updates are all applied, in some order, or refused by the rules (409).
 */
export function updateOperation(
  store: OperationStore,
  key: OperationKey,
  changes: UpdateOperationBody,
  options: UpdateOptions,
): Promise<UpdateOutcome> {
  return inTurn(turnKey(key), () => compareAndSwap(store, key, changes, options));
}

async function compareAndSwap(
  store: OperationStore,
  key: OperationKey,
  changes: UpdateOperationBody,
  options: UpdateOptions,
): Promise<UpdateOutcome> {
  const started = performance.now();
  for (let attempt = 0; ; attempt++) {
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
    // Lost to another process. Only a stream of writes from elsewhere that never pauses for the whole budget gets
    // here: say when to come back.
    if (performance.now() - started > CONTENTION_BUDGET_MS) {
      throw new GraphError(503, ErrorCode.serviceUnavailable, "The operation is being changed concurrently; retry.", {
        headers: { "Retry-After": "1" },
      });
    }
    await sleep(Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
  }
}
