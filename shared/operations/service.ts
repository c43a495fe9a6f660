/**
 * Creating and changing stored operations under the rules, with the store's
 * concurrency control. The one path for HTTP, queue and timer callers: each
 * adds only how it talks to its caller.
 */
import { untilWon } from "../contention.js";
import { AlreadyExistsError, NotFoundError, PreconditionFailedError, RuleViolationError } from "../errors.js";
import { operationNotFound, type OperationStore } from "../store/operations.js";
import { trackOperationCreated, trackStatusChanged } from "../telemetry.js";
import {
  DELETION_NOTICE_SECONDS,
  isTombstoneExpired,
  type OperationDocument,
  type StoredOperation,
  type Tombstone,
} from "./model.js";
import { applyUpdate } from "./rules.js";
import { inTurn } from "./turns.js";
import { utcNow } from "./timestamps.js";
import type { UpdateOperationBody } from "./schema.js";

export interface CreateOutcome {
  readonly stored: StoredOperation;
  /** True when this was a repeat of an earlier create (same repeatability id or fingerprint): nothing new stored. */
  readonly replayed: boolean;
}

/**
 * Stores a new operation. When its id is taken: a repeat of the request that created the operation there returns
 * it (nothing new stored); a repeat of the request that created an operation since deleted is refused (its tombstone
 * remembers it: no resurrection, a RuleViolationError); a different request finds the id taken (AlreadyExistsError),
 * unless only a tombstone holds the id, which it then replaces.
 */
export function createStoredOperation(store: OperationStore, document: OperationDocument): Promise<CreateOutcome> {
  return inTurn(turnKey(document), async () => {
    try {
      const stored = await store.create(document);
      trackOperationCreated(stored.document.operationType, stored.document.status);
      return { stored, replayed: false };
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      const entry = await store.readEntry(document.tenantId, document.teamId, document.operationId);
      if (entry?.kind === "tombstone") return createOverTombstone(store, document, entry.tombstone, entry.etag, error);
      const repeatability = document.repeatability;
      const first = entry?.stored.document.repeatability;
      if (!entry || !repeatability || first?.requestId !== repeatability.requestId) throw error;
      if (first.fingerprint !== repeatability.fingerprint) {
        throw new RuleViolationError("This request id was already used for a different request.", {
          target: repeatabilityTarget(repeatability.requestId),
        });
      }
      return { stored: entry.stored, replayed: true };
    }
  });
}

const repeatabilityTarget = (requestId: string) =>
  requestId.startsWith("queue:") ? "operation" : "Repeatability-Request-ID";

async function createOverTombstone(
  store: OperationStore,
  document: OperationDocument,
  tombstone: Tombstone,
  etag: string,
  taken: AlreadyExistsError,
): Promise<CreateOutcome> {
  const buried = tombstone.repeatability;
  const repeatability = document.repeatability;
  // Queue creates share one request id; their body tells one message from another. An expired tombstone remembers
  // nothing (Cosmos DB has removed it; a store that keeps it past its TTL must not refuse for it).
  const isRepeat =
    buried !== undefined &&
    repeatability !== undefined &&
    !isTombstoneExpired(tombstone) &&
    buried.requestId === repeatability.requestId &&
    (!repeatability.requestId.startsWith("queue:") || buried.fingerprint === repeatability.fingerprint);
  if (isRepeat) {
    throw new RuleViolationError(
      "The operation this request created has since been deleted; a repeat of the request does not create it again.",
      { target: repeatabilityTarget(repeatability.requestId) },
    );
  }
  try {
    const stored = await store.replace(document, etag);
    trackOperationCreated(stored.document.operationType, stored.document.status);
    return { stored, replayed: false };
  } catch (error) {
    // Someone else took the id first: it is taken.
    if (error instanceof PreconditionFailedError || error instanceof NotFoundError) throw taken;
    throw error;
  }
}

/** A request's preconditions on the stored version (RFC 9110, section 13), weighed at the moment of the write. */
export interface Preconditions {
  /** A client's If-Match: the change applies only to this version (a lost race is the client's 412, not retried). */
  readonly ifMatch?: (storedEtag: string) => boolean;
  /** A client's If-None-Match: true when the stored version matches it, which refuses the change (412). */
  readonly ifNoneMatch?: (storedEtag: string) => boolean;
}

export interface UpdateOptions extends Preconditions {
  readonly ttlSeconds: number;
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

/**
 * Runs a read-check-write round until it does not lose a race to a concurrent write. A change pinned to one version
 * (If-Match) does not retry: the lost race is the caller's PreconditionFailedError. Any other, which in this process
 * only loses to other processes (turns.ts), reads again and retries (contention.ts).
 */
function untilApplied<T>(preconditions: Preconditions, round: () => Promise<T>): Promise<T> {
  if (preconditions.ifMatch) return round();
  return untilWon(
    round,
    "The operation is being changed concurrently; retry.",
    (error) => error instanceof PreconditionFailedError && !refusals.has(error),
  );
}

/** The refusals of a request's own preconditions: final, unlike a race lost in the store. */
const refusals = new WeakSet<Error>();

/** Refuses a change that the request's preconditions do not allow on the stored version. */
function checkPreconditions(preconditions: Preconditions, storedEtag: string): void {
  let refusal: PreconditionFailedError | undefined;
  if (preconditions.ifMatch && !preconditions.ifMatch(storedEtag)) refusal = new PreconditionFailedError();
  else if (preconditions.ifNoneMatch?.(storedEtag)) {
    refusal = new PreconditionFailedError("The operation exists and matches the ETag given in If-None-Match (or *).");
  }
  if (refusal) {
    refusals.add(refusal);
    throw refusal;
  }
}

/**
 * Applies a change under the state rules as a compare-and-swap on the stored ETag, in its turn among this process's
 * writers of the operation. With a client's If-Match a lost race is the client's PreconditionFailedError; without one
 * the update re-reads and retries, so concurrent updates are all applied, in some order, or refused by the rules.
 */
export function updateStoredOperation(
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
  return untilApplied(options, async () => {
    const stored = await store.read(key.tenantId, key.teamId, key.operationId);
    if (!stored) throw operationNotFound();
    checkPreconditions(options, stored.etag);
    const result = applyUpdate(stored.document, changes, { ttlSeconds: options.ttlSeconds });
    if (!result.changed) return { stored, changed: false };
    const replaced = await store.replace(result.document, stored.etag);
    trackStatusChanged(stored.document.status, replaced.document.status);
    return { stored: replaced, changed: true };
  });
}

export interface DeleteOptions extends Preconditions {
  /** Seconds a tombstone is kept: as long as a finished operation would have been. */
  readonly ttlSeconds: number;
  readonly now?: Date;
}

/**
 * Deletes an operation (NotFoundError when there is none), in its turn among this process's writers, by replacing it with its
 * tombstone in one conditional write: the change feed carries that write (it carries no deletions), so change
 * notifications see every deletion, with no second write to keep in step. One created by a repeatable request
 * keeps that request's record for the whole retention, so repeating the request cannot bring it back; any other
 * expires after DELETION_NOTICE_SECONDS.
 */
export function deleteStoredOperation(store: OperationStore, key: OperationKey, options: DeleteOptions): Promise<void> {
  return inTurn(turnKey(key), () =>
    untilApplied(options, async () => {
      const stored = await store.read(key.tenantId, key.teamId, key.operationId);
      if (!stored) throw operationNotFound();
      checkPreconditions(options, stored.etag);
      const { document } = stored;
      const tombstone: Tombstone = {
        id: document.id,
        teamId: document.teamId,
        tenantId: document.tenantId,
        operationId: document.operationId,
        tombstone: true,
        deletedDateTime: utcNow(options.now),
        ...(document.repeatability ? { repeatability: document.repeatability } : {}),
        ttl: document.repeatability ? options.ttlSeconds : Math.min(options.ttlSeconds, DELETION_NOTICE_SECONDS),
      };
      if (!(await store.bury(tombstone, stored.etag))) throw operationNotFound();
    }),
  );
}
