/**
 * Writers of one operation take turns within a process. Concurrent changes of
 * one operation are compare-and-swaps on its ETag; without turns, every
 * concurrent writer but one loses each round and reads again, so N writers
 * cost N² store calls and the unlucky ones run out of rounds. With turns,
 * each writer of this process reads and writes once; only writers in other
 * processes (other instances) can still race it, and the compare-and-swap
 * with jittered backoff settles those (`service.ts`).
 */
import { ThrottledError } from "../errors.js";

/** Writers of one operation that may wait in one process; past this, throttled (the client or the queue retries). */
export const MAX_WAITING_WRITERS = 100;
/** How long a writer waits for its turn before it is throttled: at local store speeds a turn takes milliseconds. */
export const TURN_WAIT_MS = 10_000;

interface Line {
  /** Settles when the last writer in line has finished. */
  tail: Promise<void>;
  waiting: number;
}

const lines = new Map<string, Line>();

const busy = () => new ThrottledError("Too many changes of this operation are waiting; retry after the time given.", 1);

/** Runs `write` when every earlier writer of the same key in this process has finished. */
export async function inTurn<T>(key: string, write: () => Promise<T>): Promise<T> {
  let line = lines.get(key);
  if (!line) {
    line = { tail: Promise.resolve(), waiting: 0 };
    lines.set(key, line);
  }
  if (line.waiting >= MAX_WAITING_WRITERS) throw busy();
  line.waiting++;
  const previous = line.tail;
  let release!: () => void;
  line.tail = new Promise<void>((resolve) => (release = resolve));
  let timer: NodeJS.Timeout | undefined;
  let gaveUp = false;
  try {
    const turn = await Promise.race([
      previous.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), TURN_WAIT_MS))),
    ]);
    if (!turn) {
      // Whoever comes next still waits for the writer ahead of us, not for us.
      gaveUp = true;
      void previous.then(release);
      throw busy();
    }
    return await write();
  } finally {
    clearTimeout(timer);
    if (!gaveUp) release();
    if (--line.waiting === 0 && lines.get(key) === line) lines.delete(key);
  }
}
