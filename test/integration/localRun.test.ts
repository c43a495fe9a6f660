/**
 * What a developer does after `npm ci && npm start`: the runner starts its own
 * embedded store, and a token from `npm run --silent token` creates an
 * operation. Also: a configured public base URL shapes Location and @odata.context.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, TEAM } from "../support/http.js";
import { PROJECT_ROOT, spawnRunner, startStack, type Runner, type Stack } from "../support/stack.js";

const run = promisify(execFile);

describe("npm start and the token command", () => {
  let runner: Runner;
  let baseUrl: string;
  const devDir = mkdtempSync(join(tmpdir(), "teamops-start-"));
  // What `npm start` sees on a fresh machine: no settings at all (the runner starts its own store and Azurite).
  const env = { PATH: process.env.PATH ?? "", PORT: "0", TEAMOPS_DEV_DIR: devDir };

  beforeAll(async () => {
    runner = await spawnRunner(env);
    baseUrl = runner.baseUrl;
  });
  afterAll(async () => {
    await runner?.stop();
    rmSync(devDir, { recursive: true, force: true });
  });

  it("prints where it listens, its store and how to get a token", () => {
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\.0$/);
    expect(runner.output()).toContain("embedded Cosmos DB server at http://127.0.0.1:");
    expect(runner.output()).toContain("npm run --silent token");
  });

  it("answers health without a token", async () => {
    const res = await call(`${baseUrl}/health`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: "healthy", checks: { store: "up" } });
  });

  it("accepts a token printed by npm run --silent token, and only that on stdout", async () => {
    const { stdout } = await run("npm", ["run", "--silent", "token", "--", "--app"], { cwd: PROJECT_ROOT, env });
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const res = await call(`${baseUrl}/teams/${TEAM}/operations`, {
      method: "POST",
      token: stdout.trim(),
      body: { operationType: "createTeam" },
    });
    expect(res.status, res.text).toBe(201);
  });

  it("passes the token command's claims through to the access checks", async () => {
    const { stdout } = await run(
      "npm",
      ["run", "--silent", "token", "--", "--groups", TEAM, "--scopes", "TeamsAsyncOperation.Read"],
      {
        cwd: PROJECT_ROOT,
        env,
      },
    );
    const res = await call(`${baseUrl}/me/joinedGroups/${TEAM}/team/operations`, {
      method: "POST",
      token: stdout.trim(),
      body: { operationType: "createTeam" },
    });
    expect(res.status).toBe(403);
    expect(res.json.error.message).toContain("TeamsAsyncOperation.ReadWrite");
  });

  it("refuses bad token command arguments on stderr with a usage line", async () => {
    await expect(
      run("node", ["dist/local/token.js", "--expires-in", "soon"], { cwd: PROJECT_ROOT, env }),
    ).rejects.toMatchObject({
      code: 2,
      stdout: "",
      stderr: expect.stringContaining("Usage:"),
    });
  });
});

describe("PUBLIC_BASE_URL", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { PUBLIC_BASE_URL: "https://api.contoso.test" } });
  });
  afterAll(() => stack?.stop());

  it("shapes Location and @odata.context behind a proxy", async () => {
    const res = await call(`${stack.baseUrl}/teams/${TEAM}/operations`, {
      method: "POST",
      token: await stack.token({ app: true }),
      body: { operationType: "createTeam", id: "behind-proxy" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`https://api.contoso.test/v1.0/teams/${TEAM}/operations/behind-proxy`);
    expect(res.json["@odata.context"]).toBe(
      `https://api.contoso.test/v1.0/$metadata#teams('${TEAM}')/operations/$entity`,
    );
  });
});
