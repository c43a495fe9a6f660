// Types of prepare-local.js, for the tests that call it.

/** What the build reads (files and folders below the project root). */
export const BUILD_INPUTS: readonly string[];
/** What the build writes that the local commands run. */
export const BUILD_OUTPUTS: readonly string[];
/** Whether the build is missing or older than any of its sources (or the build's own stamp). */
export function buildIsStale(projectRoot?: string): boolean;
/** PORT (default 7071), refused unless it is a port number. */
export function apiPort(env?: Readonly<Record<string, string | undefined>>): number;
/** The func `npm run start:func` runs: the project's own Core Tools, else the first on `path`; throws saying what to install. */
export function findFunc(projectRoot?: string, path?: string): string;
