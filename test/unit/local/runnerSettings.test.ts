/** What the local runner starts with: the app settings as `func start` reads them, and its own typed settings. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readAppSettings, readRunnerSettings } from "../../../local/runnerSettings.js";

const root = mkdtempSync(join(tmpdir(), "teamops-runner-settings-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function appWith(localSettings: string | undefined): string {
  const dir = mkdtempSync(join(root, "app-"));
  if (localSettings !== undefined) writeFileSync(join(dir, "local.settings.json"), localSettings);
  return dir;
}

describe("readAppSettings", () => {
  it("is the environment alone without a local.settings.json", () => {
    const settings = readAppSettings({ A: "1" }, appWith(undefined));
    expect(settings.values).toEqual({ A: "1" });
    expect([...settings.fromLocalSettings]).toEqual([]);
  });

  it("adds local.settings.json's Values where the environment has none, and says which", () => {
    const dir = appWith(
      JSON.stringify({ IsEncrypted: false, Values: { A: "local", B: "local", EMPTY: "", NUMBER: 7, C: "c" } }),
    );
    const settings = readAppSettings({ A: "env", EMPTY: undefined }, dir);
    expect(settings.values).toEqual({ A: "env", B: "local", C: "c", EMPTY: undefined });
    expect([...settings.fromLocalSettings].sort()).toEqual(["B", "C"]);
  });

  it("does not change the environment it is given", () => {
    const env = { A: "env" };
    readAppSettings(env, appWith(JSON.stringify({ Values: { B: "local" } })));
    expect(env).toEqual({ A: "env" });
  });

  it("refuses a local.settings.json that is not JSON", () => {
    expect(() => readAppSettings({}, appWith("{ not json"))).toThrow(/local.settings.json cannot be read as JSON/);
  });
});

describe("readRunnerSettings", () => {
  it("gives the documented defaults", () => {
    expect(readRunnerSettings({}, "/app")).toEqual({
      port: 7071,
      cosmosPort: 0,
      azuriteQueuePort: 10001,
      logLevel: "info",
      queues: true,
      triggers: true,
      dataDir: join("/app", ".local"),
      https: false,
    });
    expect(readRunnerSettings({ LOCAL_HTTPS: "on" }, "/app").https).toBe(true);
    expect(() => readRunnerSettings({ LOCAL_HTTPS: "yes" }, "/app")).toThrow(/LOCAL_HTTPS="yes" is not allowed/);
  });

  it("turns the queues off with the triggers, and keeps no data with persistence off", () => {
    const settings = readRunnerSettings({ LOCAL_TRIGGERS: "off", LOCAL_PERSISTENCE: "OFF", LOG_LEVEL: "Debug" }, "/a");
    expect(settings).toMatchObject({ triggers: false, queues: false, dataDir: undefined, logLevel: "debug" });
  });

  it("refuses a value it does not know, naming it", () => {
    expect(() => readRunnerSettings({ LOCAL_QUEUES: "yes" }, "/a")).toThrow('LOCAL_QUEUES="yes" is not allowed');
    expect(() => readRunnerSettings({ SWEEPER_SCHEDULE: "every minute" }, "/a")).toThrow(/SWEEPER_SCHEDULE/);
  });
});
