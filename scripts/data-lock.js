// One runner per data folder: `runner.lock` in the folder names the runner that holds it (its process id, its API
// port once it listens, when it started). The local runner takes the lock before it reads the folder and removes it
// when it exits; a lock whose process is gone (a runner that was killed) is taken over, saying so. `npm run reset`
// asks the same question before it deletes anything. Plain JavaScript, so that reset needs no build.
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const LOCK_FILE = "runner.lock";

/** Whether a process of that id is running (one of another user counts: it exists). */
function isRunning(pid) {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

function readLock(file) {
  try {
    const lock = JSON.parse(readFileSync(file, "utf8"));
    return typeof lock === "object" && lock !== null ? lock : {};
  } catch (error) {
    if (error.code === "ENOENT") return undefined;
    return {}; // unreadable: whoever wrote it cannot be named
  }
}

/** The runner that holds the folder, named as the messages name it. */
export function describeHolder(lock) {
  const port = lock.port ? ` on port ${lock.port}` : "";
  const since = lock.startedAt ? `, started ${lock.startedAt}` : "";
  return `the runner in process ${lock.pid}${port}${since}`;
}

/** The lock of a running runner in the folder, or undefined when no running process holds it. */
export function dataFolderHolder(dataDir) {
  const lock = readLock(join(dataDir, LOCK_FILE));
  return lock && isRunning(lock.pid) ? lock : undefined;
}

export class DataFolderInUseError extends Error {
  constructor(dataDir, lock) {
    super(
      `The data folder ${dataDir} is in use by ${describeHolder(lock)}. Stop that runner first, or give this one ` +
        "a folder of its own (LOCAL_DATA_DIR): a data folder serves one runner at a time.",
    );
    this.name = "DataFolderInUseError";
    this.holder = lock;
  }
}

/**
 * Takes the folder's lock for this process, or throws DataFolderInUseError naming the runner that holds it. A lock
 * left by a process that is no longer running is taken over (`tookOver` names it).
 */
export function lockDataFolder(dataDir, { pid = process.pid, now = new Date() } = {}) {
  const file = join(dataDir, LOCK_FILE);
  const mine = { pid, startedAt: now.toISOString() };
  let tookOver;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(mine), { flag: "wx" });
      break;
    } catch (error) {
      if (error.code !== "EEXIST" || attempt >= 2) throw error;
    }
    const lock = readLock(file);
    if (lock && isRunning(lock.pid)) throw new DataFolderInUseError(dataDir, lock);
    if (lock) tookOver = lock;
    rmSync(file, { force: true });
  }
  /** Whether the lock in the folder is still this process's. */
  const held = () => readLock(file)?.pid === pid;
  return {
    tookOver,
    /** Records the API's port once the runner listens (written beside, then renamed: a reader sees it whole). */
    setPort(port) {
      if (!held()) return;
      const partial = `${file}.${pid}`;
      writeFileSync(partial, JSON.stringify({ ...mine, port }));
      renameSync(partial, file);
    },
    /** Removes the lock, if it is still this process's. */
    release() {
      if (held()) rmSync(file, { force: true });
    },
  };
}
