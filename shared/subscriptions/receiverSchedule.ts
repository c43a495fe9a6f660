/**
 * When each receiver (a notification URL) may be tried next, in this instance: so that a receiver that does not
 * answer costs the others nothing. At most one attempt per receiver is in flight at a time; after a failed attempt
 * the receiver rests until its retry is due, and until it acknowledges again it is failing: the change feed's first
 * attempts pass it by (its new batches go to the queue, due when it may be tried), so only the queue's retries, one
 * at a time, wait on it. A batch for a receiver that is busy or resting is not attempted: it goes to the delivery
 * queue, due when the receiver may be tried again, and holds no change-feed batch and no queue slot meanwhile.
 *
 * Batches that come due while their receiver is busy or resting wait together: they are merged (per receiver, team
 * and retry count, so that each notification keeps to its own schedule) into one queue message, so that a receiver
 * that is down costs one message per round however many changes it is sent.
 *
 * The state is this instance's alone (another instance learns of a silent receiver by its own first attempt) and
 * bounded: past MAX_RECEIVERS, the receivers that are neither busy nor resting are forgotten first.
 */
import type { DeliveryBatch } from "./delivery.js";

interface ReceiverState {
  /** When the attempt in flight gives up (undefined: none in flight). */
  busyUntil?: number;
  /** Not tried again before this time, after a failed attempt. */
  restUntil?: number;
  /** Its last attempt failed, and nothing was acknowledged since. */
  failing?: boolean;
}

const MAX_RECEIVERS = 10_000;

export type AttemptKind = "first" | "retry";

export class ReceiverSchedule {
  readonly #receivers = new Map<string, ReceiverState>();

  /** Milliseconds until the receiver may be tried (0: now); a failing receiver is never tried by a first attempt. */
  waitMs(url: string, kind: AttemptKind, now = Date.now()): number {
    const state = this.#receivers.get(url);
    if (!state) return 0;
    const wait = Math.max(0, (state.busyUntil ?? 0) - now, (state.restUntil ?? 0) - now);
    return kind === "first" && state.failing ? Math.max(wait, 1) : wait;
  }

  /** Marks an attempt in flight until `deadline`; false (nothing marked) when the receiver may not be tried now. */
  begin(url: string, kind: AttemptKind, deadline: number, now = Date.now()): boolean {
    if (this.waitMs(url, kind, now) > 0) return false;
    this.#prune(now);
    this.#receivers.set(url, { ...this.#receivers.get(url), busyUntil: deadline, restUntil: undefined });
    return true;
  }

  /** Ends the attempt in flight: acknowledged (the receiver may be tried at once), or failed, resting `restMs`. */
  end(url: string, outcome: { acknowledged: true } | { acknowledged: false; restMs: number }, now = Date.now()): void {
    if (outcome.acknowledged) this.#receivers.delete(url);
    else this.#receivers.set(url, { failing: true, restUntil: now + outcome.restMs });
  }

  #prune(now: number): void {
    if (this.#receivers.size < MAX_RECEIVERS) return;
    for (const [url, state] of this.#receivers) {
      if ((state.busyUntil ?? 0) <= now && (state.restUntil ?? 0) <= now) this.#receivers.delete(url);
    }
    // Still full of busy or resting receivers: the oldest entries go (at worst, one more attempt each).
    for (const url of this.#receivers.keys()) {
      if (this.#receivers.size < MAX_RECEIVERS) break;
      this.#receivers.delete(url);
    }
  }
}

/** How long a batch that waits for its receiver gathers others before they go back to the queue together. */
export const GATHER_MS = 200;

interface Gathering {
  batch: DeliveryBatch;
  readonly sent: Promise<void>;
}

/** Batches waiting for their receiver, gathered for GATHER_MS, then sent back to the queue as one. */
export class WaitingBatches {
  readonly #gathering = new Map<string, Gathering>();

  /**
   * Adds a batch to those waiting for its receiver; resolves once the merged batch is on the queue (rejects if it
   * could not be put there: the batch's own message is then retried).
   */
  wait(batch: DeliveryBatch, send: (merged: DeliveryBatch) => Promise<void>): Promise<void> {
    const key = JSON.stringify([batch.notificationUrl, batch.resourceKey, batch.retries]);
    const gathering = this.#gathering.get(key);
    if (gathering) {
      gathering.batch = merge(gathering.batch, batch);
      return gathering.sent;
    }
    const sent = new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        const merged = this.#gathering.get(key)!.batch;
        this.#gathering.delete(key);
        send(merged).then(resolve, reject);
      }, GATHER_MS);
    });
    this.#gathering.set(key, { batch, sent });
    return sent;
  }
}

/** Two batches for one receiver, team and retry as one: each notification once, the earliest first attempt. */
function merge(a: DeliveryBatch, b: DeliveryBatch): DeliveryBatch {
  const ids = new Set(a.notifications.map((n) => n.id));
  return {
    ...a,
    notifications: [...a.notifications, ...b.notifications.filter((n) => !ids.has(n.id))],
    firstAttemptDateTime:
      a.firstAttemptDateTime < b.firstAttemptDateTime ? a.firstAttemptDateTime : b.firstAttemptDateTime,
  };
}

/** The batches waiting for this instance's receivers. */
export const waitingBatches = new WaitingBatches();

/** The schedule of this instance's receivers. */
export const receiverSchedule = new ReceiverSchedule();
