/**
 * Writers that race: a write made conditional on the version it read (an ETag) loses when another write got in
 * first. A writer that did not ask for that condition itself (no If-Match) is not told of the race: it reads again
 * and tries again, with full-jitter exponential backoff (10 ms doubling to 250 ms), for up to CONTENTION_BUDGET_MS.
 * The one backoff loop of the app: operations (operations/service.ts) and subscription quotas (subscriptions/quota.ts).
 */
import { PreconditionFailedError, UnavailableError } from "./errors.js";

/** How long a writer keeps re-reading and retrying when a write from elsewhere got in first. */
export const CONTENTION_BUDGET_MS = 10_000;
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a round says: it won (with its result), or a write from elsewhere got in first and it must run again. */
export type Round<T> = { readonly won: true; readonly value: T } | { readonly won: false };

/**
 * Runs a read-check-write round until it wins. Only a stream of writes from elsewhere that never pauses for the
 * whole budget ends it with an UnavailableError saying what is being changed (`busy`), so that the caller retries
 * later.
 */
export async function withBackoff<T>(round: () => Promise<Round<T>>, busy: string): Promise<T> {
  const started = performance.now();
  for (let attempt = 0; ; attempt++) {
    const outcome = await round();
    if (outcome.won) return outcome.value;
    if (performance.now() - started > CONTENTION_BUDGET_MS) throw new UnavailableError(busy, 1);
    await sleep(Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
  }
}

const lostRace = (error: unknown): boolean => error instanceof PreconditionFailedError;

/**
 * Runs a round that throws when it loses a race (by default a PreconditionFailedError: the store's conditional
 * write found another version) until it does not, under `withBackoff`.
 */
export function untilWon<T>(round: () => Promise<T>, busy: string, lost = lostRace): Promise<T> {
  return withBackoff<T>(async () => {
    try {
      return { won: true, value: await round() };
    } catch (error) {
      if (!lost(error)) throw error;
      return { won: false };
    }
  }, busy);
}
