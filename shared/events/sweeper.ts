/**
 * The stuck-operation sweeper: operations still `notStarted` or `inProgress`
 * that nobody has changed for longer than the deadline are marked `failed`
 * with `error.code` `operationTimedOut`, through the same rules and ETags as
 * any update. "Changed" is judged by the store's own time of the last write
 * (`_ts`), never by the `lastActionDateTime` a client sent. A worker's
 * concurrent update wins: only the version found stale is changed (If-Match).
 */
import { NotFoundError, PreconditionFailedError, RuleViolationError } from "../errors.js";
import { updateStoredOperation } from "../operations/service.js";
import type { OperationStore } from "../store/operations.js";

export const TIMED_OUT = "operationTimedOut";
/** Pages one run reads at most; the rest waits for the next run. */
export const MAX_PAGES_PER_RUN = 10;

export interface SweepOptions {
  readonly deadlineMinutes: number;
  readonly batchSize: number;
  readonly ttlSeconds: number;
  readonly now?: Date;
}

export interface SweepResult {
  readonly examined: number;
  readonly failed: string[];
  /** Stale when found, but changed by someone else (or gone) before the sweeper could write. */
  readonly skipped: number;
}

/** The operation changed (its ETag), finished (the rules refuse the change) or went away since it was found. */
const lostToAnotherWriter = (error: unknown) =>
  error instanceof PreconditionFailedError || error instanceof RuleViolationError || error instanceof NotFoundError;

export async function sweepStaleOperations(store: OperationStore, options: SweepOptions): Promise<SweepResult> {
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - options.deadlineMinutes * 60_000);
  const changes = {
    status: "failed" as const,
    error: {
      code: TIMED_OUT,
      message: `No action for ${options.deadlineMinutes} minutes; the operation was marked failed.`,
    },
  };
  const result = { examined: 0, failed: [] as string[], skipped: 0 };
  let continuation: string | undefined;
  for (let page = 0; page < MAX_PAGES_PER_RUN; page++) {
    const batch = await store.findStale(cutoff, options.batchSize, continuation);
    for (const { document: doc, etag } of batch.operations) {
      result.examined++;
      try {
        const key = { tenantId: doc.tenantId, teamId: doc.teamId, operationId: doc.operationId };
        const outcome = await updateStoredOperation(store, key, changes, {
          ttlSeconds: options.ttlSeconds,
          ifMatch: (current) => current === etag,
        });
        if (outcome.changed) result.failed.push(doc.id);
        else result.skipped++;
      } catch (error) {
        // Changed, finished or deleted by someone else meanwhile: they win. Store faults end this run.
        if (lostToAnotherWriter(error)) result.skipped++;
        else throw error;
      }
    }
    continuation = batch.continuation;
    if (!continuation) break;
  }
  return result;
}
