/**
 * The project runs on Node.js 22 LTS everywhere: the Functions runtime the infrastructure asks for, the engines
 * field, and every script and test (npm scripts run on the `node` dev dependency, whatever Node runs npm itself).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

describe("Node.js runtime", () => {
  it("is 22 or later for this test run (npm scripts use the project's own Node)", () => {
    expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(22);
  });

  it("is pinned to the 22 LTS line as a dev dependency, and required by engines", () => {
    expect(pkg.devDependencies.node).toMatch(/^\^22\./);
    expect(pkg.engines.node).toBe(">=22");
  });
});
