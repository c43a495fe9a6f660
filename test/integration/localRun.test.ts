/**
 * What a developer does after `npm ci && npm start`: the runner starts its own
 * embedded store, and a token from `npm run --silent token` creates an
 * operation. Also: a configured public base URL shapes Location and @odata.context.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, TEAM } from "../support/http.js";
import { PROJECT_ROOT, startStack, type Stack } from "../support/stack.js";

const run = promisify(execFile);

describe("npm start and the token command", () => {
  let runner: ChildProcess;
  let baseUrl: string;
  let printed = "";
  const devDir = mkdtempSync(join(tmpdir(), "teamops-start-"));
  const env = { PATH: process.env.PATH ?? "", PORT: "0", TEAMOPS_DEV_DIR: devDir };

  beforeAll(async () => {
    runner = spawn(process.execPath, ["dist/local/runner.js"], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    runner.stderr!.on("data", (c: Buffer) => (printed += c.toString()));
    baseUrl = await new Promise<string>((resolve, reject) => {
      runner.stdout!.on("data", (c: Buffer) => {
        printed += c.toString();
        // The banner's last line is the token hint: wait for all of it.
        const match = /listening on (http:\/\/\S+)[\s\S]*token:/.exec(printed);
        if (match?.[1]) resolve(match[1]);
      });
      runner.once("exit", (code) => reject(new Error(`runner exited ${code}: ${printed}`)));
    });
  });
  afterAll(async () => {
    const exited = new Promise((r) => runner.once("exit", r));
    runner.kill("SIGTERM");
    await exited;
    rmSync(devDir, { recursive: true, force: true });
  });

  it("prints where it listens, its store and how to get a token", () => {
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\.0$/);
    expect(printed).toContain("embedded Cosmos DB server at http://127.0.0.1:");
    expect(printed).toContain("npm run --silent token");
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
