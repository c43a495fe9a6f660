/**
 * docs/configuration.md is made from the settings catalogues (npm run docs:configuration): it names every setting
 * the code reads, with the code's descriptions and defaults, and nothing else.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { RECEIVER_SETTINGS } from "../../../local/receiver.js";
import { RUNNER_SETTINGS } from "../../../local/runnerSettings.js";
import { CONFIGURATION_DOC, configurationDoc } from "../../../scripts/configuration-doc.js";
import { SETTINGS } from "../../../shared/config.js";

const root = join(import.meta.dirname, "..", "..", "..");

it("is what the catalogues make (run npm run docs:configuration after changing a setting)", async () => {
  const made = await configurationDoc({
    settings: SETTINGS,
    runnerSettings: RUNNER_SETTINGS,
    receiverSettings: RECEIVER_SETTINGS,
  });
  expect(readFileSync(join(root, CONFIGURATION_DOC), "utf8")).toBe(made);
});

it("names every setting of every catalogue in a table row of its own", () => {
  const doc = readFileSync(join(root, CONFIGURATION_DOC), "utf8");
  const rows = [...doc.matchAll(/^\| `([A-Za-z0-9_]+)` +\|/gm)].map((m) => m[1]);
  const names = [...SETTINGS, ...RUNNER_SETTINGS, ...RECEIVER_SETTINGS].map((s) => s.name);
  expect(rows.sort()).toEqual([...names].sort());
});
