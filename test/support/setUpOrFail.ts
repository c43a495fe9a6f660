import { beforeAll, beforeEach } from "vitest";

/**
 * A file's set-up, run once before its tests. A failure fails each test with the set-up's error: thrown from
 * `beforeAll` itself, it would mark every test "skipped".
 */
export function setUpOrFailEach(setUp: () => Promise<void> | void, timeoutMs = 300_000): void {
  let setUpError: Error | undefined;
  beforeAll(async () => {
    try {
      await setUp();
    } catch (error) {
      setUpError = error instanceof Error ? error : new Error(String(error));
    }
  }, timeoutMs);
  beforeEach(() => {
    if (setUpError) throw setUpError;
  });
}
