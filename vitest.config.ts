import { defineConfig } from "vitest/config";

/**
 * Integration files that take long because of what they wait for (rebuilds, npm installs, restarts, timers, retry
 * schedules), not because they are many: `npm test` runs them, `npm run test:fast` does not.
 */
const SLOW = [
  "test/integration/authTokenCommand.test.ts",
  "test/integration/coreTools.test.ts",
  "test/integration/devLoop.test.ts",
  "test/integration/events.test.ts",
  "test/integration/health.test.ts",
  "test/integration/localCommands.test.ts",
  "test/integration/localData.test.ts",
  "test/integration/shutdown.test.ts",
  "test/integration/subscriptionLifecycle.test.ts",
  "test/integration/subscriptions.test.ts",
  "test/integration/tokenCapture.test.ts",
  "test/integration/troubleshooting.test.ts",
  "test/reliability/faults.test.ts",
];

const UNIT = ["test/unit/**/*.test.ts", "test/handlers/**/*.test.ts"];
const INFRA = ["test/infra/**/*.test.ts"];

/**
 * Four projects, each file in exactly one (a file in a new folder falls in "integration"): `npm test` runs them all,
 * as CI does; `npm run test:unit` the first, `npm run test:fast` the first two. The infrastructure tests need the
 * .NET SDK (for the Bicep CLI).
 */
export default defineConfig({
  test: {
    globalSetup: ["test/support/runFolder.ts"],
    // Integration tests start real servers; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "unit", include: UNIT } },
      {
        extends: true,
        test: { name: "integration", include: ["test/**/*.test.ts"], exclude: [...UNIT, ...INFRA, ...SLOW] },
      },
      { extends: true, test: { name: "slow", include: SLOW } },
      { extends: true, test: { name: "infra", include: INFRA } },
    ],
  },
});
