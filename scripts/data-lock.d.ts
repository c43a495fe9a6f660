// Types of data-lock.js, for the local runner and the tests.

export interface DataFolderLock {
  readonly pid: number;
  readonly port?: number;
  readonly startedAt?: string;
}

export const LOCK_FILE: string;

/** The runner that holds the folder, named as the messages name it. */
export function describeHolder(lock: DataFolderLock): string;

/** The lock of a running runner in the folder, or undefined when no running process holds it. */
export function dataFolderHolder(dataDir: string): DataFolderLock | undefined;

export class DataFolderInUseError extends Error {
  readonly holder: DataFolderLock;
}

export interface HeldDataFolder {
  /** The lock of a process no longer running that was taken over, if there was one. */
  readonly tookOver: Partial<DataFolderLock> | undefined;
  /** Records the API's port once the runner listens. */
  setPort(port: number): void;
  /** Removes the lock, if it is still this process's. */
  release(): void;
}

/** Takes the folder's lock for this process, or throws DataFolderInUseError naming the runner that holds it. */
export function lockDataFolder(dataDir: string, options?: { pid?: number; now?: Date }): HeldDataFolder;
