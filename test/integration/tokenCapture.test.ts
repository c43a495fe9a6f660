/**
 * A token captured as a reader captures it, in bash, with npm and curl: the README's capture line works from any
 * folder of the project; run outside it (npm, silenced, prints nothing) or without --silent (npm's banner comes
 * with the token), the request gets a 401 that says what the Authorization header held and the usual cause,
 * never a bare "malformed" and never a token echoed back.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEAM } from "../support/http.js";
import { PROJECT_ROOT, startStack, type Stack } from "../support/stack.js";

const run = promisify(execFile);
let stack: Stack;
const outside = mkdtempSync(join(tmpdir(), "teamops-outside-"));

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
  rmSync(outside, { recursive: true, force: true });
});

/** Runs `capture` (which sets TOKEN) in `cwd`, then lists the team's operations with curl; prints status and body. */
async function captureAndCall(cwd: string, capture: string): Promise<{ status: number; body: any; token: string }> {
  const script = `${capture}
printf '%s\\n' "\${#TOKEN}"
curl -s -w '\\n%{http_code}' "${stack.baseUrl}/teams/${TEAM}/operations" -H "Authorization: Bearer $TOKEN"`;
  const { stdout } = await run("bash", ["-c", script], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", TEAMOPS_DEV_DIR: stack.devDir },
    timeout: 120_000,
  });
  const [length = "", ...rest] = stdout.split("\n");
  const status = Number(rest.pop());
  return { status, body: JSON.parse(rest.join("\n")), token: length };
}

describe("the README's capture line, TOKEN=$(npm run --silent token -- ...)", () => {
  it.each(["docs", "shared/auth", "."])("works in %s", async (folder) => {
    const { status, body } = await captureAndCall(
      join(PROJECT_ROOT, folder),
      `TOKEN=$(npm run --silent token -- --groups ${TEAM})`,
    );
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.value).toEqual(expect.any(Array));
  });

  it("outside the project gives an empty token, and the 401 says so and what to do", async () => {
    const { status, body, token } = await captureAndCall(outside, `TOKEN=$(npm run --silent token -- --app) || true`);
    expect(token).toBe("0");
    expect(status).toBe(401);
    expect(body.error.code).toBe("InvalidAuthenticationToken");
    expect(body.error.message).toContain("The Authorization header is 'Bearer' with no token after it.");
    expect(body.error.message).toContain("prints nothing outside the project folder");
    expect(body.error.message).toContain("TOKEN=$(npm run --silent token) in the project folder");
  });
});

describe("a token captured without --silent", () => {
  it("carries npm's banner, and the 401 says what the header held and the usual cause", async () => {
    const { status, body } = await captureAndCall(PROJECT_ROOT, `TOKEN=$(npm run token -- --app 2>/dev/null)`);
    expect(status).toBe(401);
    expect(body.error.code).toBe("InvalidAuthenticationToken");
    expect(body.error.message).toMatch(/^The Authorization header holds \d+ words after 'Bearer' on \d+ lines/);
    expect(body.error.message).toContain("npm's script banner captured with the token");
    expect(body.error.message).not.toMatch(/eyJ/);
  });
});
