/**
 * Writers that race: a write made conditional on the version it read (an ETag) loses when another write got in
 * first. A writer that did not ask for that condition itself (no If-Match) is not told of the race: it reads again
 * and tries again, with full-jitter exponential backoff (10 ms doubling to 250 ms), for up to CONTENTION_BUDGET_MS.
 */
import { PreconditionFailedError, UnavailableError } from "./errors.js";

/** How long a writer keeps re-reading and retrying when a write from elsewhere got in first. */
export const CONTENTION_BUDGET_MS = 10_000;
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const lostRace = (error: unknown): boolean => error instanceof PreconditionFailedError;

/**
 * Runs a read-check-write round until it does not lose a race (by default a PreconditionFailedError: the store's
 * conditional write found another version). Only a stream of writes from elsewhere that never pauses for the whole
 * budget ends it with an UnavailableError saying what is being changed (`busy`), so that the caller retries later.
 */
export async function untilWon<T>(round: () => Promise<T>, busy: string, lost = lostRace): Promise<T> {
  const started = performance.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await round();
    } catch (error) {
      if (!lost(error)) throw error;
    }
    if (performance.now() - started > CONTENTION_BUDGET_MS) throw new UnavailableError(busy, 1);
    await sleep(Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
  }
}
