/**
 * The README's walkthrough, run as a reader runs it: its shell blocks, in
 * order, in one bash session, against a runner this test starts (the README's
 * port replaced by the runner's), each printing what the README shows below
 * it. Values that differ from run to run (ids, ETags, times, dates, the port,
 * a length that counts the port's digits) are compared by shape; everything
 * else, status lines, every header the server sends, bodies, to the letter.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, startStack, type Stack } from "../support/stack.js";

interface Step {
  readonly commands: string;
  readonly shown: string | undefined;
}

function walkthrough(readme: string): Step[] {
  const section = /<!-- walkthrough[^>]*-->([\s\S]*?)<!-- \/walkthrough -->/.exec(readme)?.[1];
  if (!section) throw new Error("README.md has no walkthrough section");
  const steps: Step[] = [];
  for (const [, lang, body] of section.matchAll(/```(\w+)\n([\s\S]*?)\n```/g)) {
    if (lang === "sh") steps.push({ commands: body!, shown: undefined });
    else if (steps.length > 0) (steps[steps.length - 1] as { shown: string | undefined }).shown = body;
  }
  return steps;
}

/** What is the same in every run: volatile values by shape, headers sorted (their names as sent). */
function normalise(output: string): string {
  const text = output
    .replace(/\r/g, "")
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, "<guid>")
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?/g, "<time>")
    .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:<port>")
    .trim();
  if (!text.startsWith("HTTP/")) return text;
  const [head = "", ...rest] = text.split("\n\n");
  const [status, ...headers] = head.split("\n");
  const kept = headers
    .map((line) => line.replace(/^(Date): .*$/i, "$1: <date>").replace(/^(Content-Length): \d+$/i, "$1: <length>"))
    .sort();
  return [status, ...kept, "", ...rest].join("\n").trim();
}

/** The body's length in bytes, and the Content-Length an HTTP answer declares for it. */
function lengths(output: string): { declared: number; actual: number } | undefined {
  const [head = "", ...rest] = output.replace(/\r\n/g, "\n").split("\n\n");
  const declared = /^content-length: (\d+)$/im.exec(head)?.[1];
  if (declared === undefined) return undefined;
  return { declared: Number(declared), actual: Buffer.byteLength(rest.join("\n\n").replace(/\n$/, "")) };
}

describe("the README's walkthrough", () => {
  let stack: Stack;
  let work: string;
  const steps = walkthrough(readFileSync(join(PROJECT_ROOT, "README.md"), "utf8"));
  const printed: string[] = [];

  beforeAll(async () => {
    stack = await startStack();
    const port = new URL(stack.baseUrl).port;
    // Below the project, so that `npm run` finds it; a folder of its own for the files the commands write.
    mkdirSync(join(PROJECT_ROOT, ".local"), { recursive: true });
    work = mkdtempSync(join(PROJECT_ROOT, ".local", "readme-"));
    const script = steps
      .map((step, i) => `echo "@@step ${i}"\n${step.commands.replaceAll("127.0.0.1:7071", `127.0.0.1:${port}`)}\necho`)
      .join("\n");
    const output = await new Promise<string>((resolve, reject) => {
      const bash = spawn("bash", ["-e", "-o", "pipefail", "-c", script], {
        cwd: work,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", TEAMOPS_DEV_DIR: stack.devDir },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let text = "";
      bash.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
      bash.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
      bash.once("error", reject);
      bash.once("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`bash exited ${code}:\n${text}`))));
    });
    printed.push(...output.split(/^@@step \d+\n/m).slice(1));
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("has steps, each showing what it prints", () => {
    expect(steps.length).toBeGreaterThanOrEqual(6);
    expect(steps.every((step) => step.shown !== undefined)).toBe(true);
  });

  it.each(steps.map((step, i) => [i, step.commands.split("\n").at(-1)!] as const))(
    "step %i (%s) prints what the README shows",
    (i) => {
      expect(normalise(printed[i] ?? "")).toBe(normalise(steps[i]!.shown ?? ""));
    },
  );

  it("shows a Content-Length that is its body's length, as the server's is", () => {
    const shown = steps.map((step) => lengths(step.shown ?? "")).filter((l) => l !== undefined);
    expect(shown.length).toBeGreaterThan(0);
    for (const { declared, actual } of shown) expect(declared).toBe(actual);
    for (const output of printed) {
      const served = lengths(output);
      if (served) expect(served.declared).toBe(served.actual);
    }
  });
});
