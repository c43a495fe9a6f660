/**
 * The token command's test knobs (--audience, --issuer, --expires-in,
 * --not-before, --tenant, --app, --roles, --scopes, --groups): the claims it
 * prints, and what the app's own verifier (the one `npm start` runs, with the
 * JWKS file the command wrote) makes of them.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerFromClaims } from "../../shared/auth/access.js";
import { createAuthenticator, type Authenticator } from "../../shared/auth/tokens.js";
import { loadConfig } from "../../shared/config.js";
import { GraphError } from "../../shared/http/graphError.js";
import { DEV_AUDIENCE, DEV_TENANT_ID } from "../../local/devIdentity.js";
import { PROJECT_ROOT } from "../support/stack.js";

const run = promisify(execFile);
const devDir = mkdtempSync(join(tmpdir(), "teamops-token-"));
const OTHER_TENANT = "e1e1e1e1-0000-4000-8000-000000000002";
const TEAM = "3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f";
let authenticate: Authenticator;

async function token(...args: string[]): Promise<string> {
  const { stdout, stderr } = await run(process.execPath, ["dist/local/token.js", ...args], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? "", TEAMOPS_DEV_DIR: devDir },
  });
  expect(stderr).toBe("");
  expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  return stdout.trim();
}

async function refusal(jwt: string): Promise<GraphError> {
  try {
    await authenticate(`Bearer ${jwt}`);
  } catch (error) {
    expect(error).toBeInstanceOf(GraphError);
    return error as GraphError;
  }
  throw new Error("the token was accepted");
}

const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  await token(); // creates the development key and the JWKS file beside it
  const config = loadConfig({
    COSMOS_ENDPOINT: "http://127.0.0.1:8081/",
    AUTH_AUDIENCES: DEV_AUDIENCE,
    AUTH_TENANTS: "*",
    AUTH_JWKS_FILE: join(devDir, "jwks.json"),
  });
  authenticate = createAuthenticator(config.auth);
});
afterAll(() => rmSync(devDir, { recursive: true, force: true }));

describe("the token command", () => {
  it("prints a delegated v2.0 token by default, shaped as Entra ID issues it", async () => {
    const jwt = await token();
    expect(decodeProtectedHeader(jwt)).toMatchObject({ alg: "RS256", typ: "JWT", kid: expect.any(String) });
    const claims = decodeJwt(jwt);
    expect(claims).toMatchObject({
      aud: DEV_AUDIENCE,
      iss: `https://login.microsoftonline.com/${DEV_TENANT_ID}/v2.0`,
      tid: DEV_TENANT_ID,
      ver: "2.0",
      scp: "TeamsAsyncOperation.ReadWrite",
    });
    expect(claims.sub).not.toBe(claims.oid); // a user's sub is pairwise
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(claims.nbf).toBe(claims.iat);
    expect(callerFromClaims(await authenticate(`Bearer ${jwt}`)).kind).toBe("delegated");
  });

  it("--app --roles: an application token (roles, no scp, sub = oid, idtyp app)", async () => {
    const claims = decodeJwt(await token("--app", "--roles", "TeamsAsyncOperation.Read.All"));
    expect(claims).toMatchObject({ roles: ["TeamsAsyncOperation.Read.All"], idtyp: "app" });
    expect(claims.scp).toBeUndefined();
    expect(claims.sub).toBe(claims.oid);
    expect(callerFromClaims(await authenticate(`Bearer ${await token("--app")}`)).kind).toBe("application");
  });

  it("--tenant --scopes --groups", async () => {
    const jwt = await token("--tenant", OTHER_TENANT, "--scopes", "TeamsAsyncOperation.Read", "--groups", `${TEAM}, x`);
    expect(decodeJwt(jwt)).toMatchObject({
      tid: OTHER_TENANT,
      iss: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0`,
      scp: "TeamsAsyncOperation.Read",
      groups: [TEAM, "x"],
    });
    expect((await authenticate(`Bearer ${jwt}`)).tid).toBe(OTHER_TENANT);
  });

  it("--audience: another audience is refused", async () => {
    const jwt = await token("--audience", "api://someone-else");
    expect(decodeJwt(jwt).aud).toBe("api://someone-else");
    expect((await refusal(jwt)).message).toMatch(/audience/);
  });

  it("--issuer: Entra ID's v1.0 issuer of the tenant is accepted, any other refused", async () => {
    const v1 = await token("--issuer", `https://sts.windows.net/${DEV_TENANT_ID}/`);
    expect(decodeJwt(v1).iss).toBe(`https://sts.windows.net/${DEV_TENANT_ID}/`);
    await expect(authenticate(`Bearer ${v1}`)).resolves.toMatchObject({ tid: DEV_TENANT_ID });
    const other = await token("--issuer", `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0`);
    expect((await refusal(other)).message).toMatch(/issuer does not match its tenant/);
  });

  it("--expires-in: negative means already expired; within the 60 s tolerance still passes", async () => {
    const expired = await token("--expires-in", "-120");
    expect(decodeJwt(expired).exp).toBeLessThanOrEqual(now() - 119);
    expect((await refusal(expired)).message).toMatch(/expired/);
    await expect(authenticate(`Bearer ${await token("--expires-in=-30")}`)).resolves.toBeDefined();
    const short = decodeJwt(await token("--expires-in", "60"));
    expect(short.exp! - short.iat!).toBe(60);
  });

  it("--not-before: seconds from now before which the token is refused", async () => {
    const later = await token("--not-before", "600");
    expect(decodeJwt(later).nbf).toBeGreaterThanOrEqual(now() + 599);
    expect((await refusal(later)).message).toMatch(/not yet valid/);
    await expect(authenticate(`Bearer ${await token("--not-before", "-60")}`)).resolves.toBeDefined();
  });

  it("refuses a non-numeric --not-before and unknown options on stderr, exit code 2", async () => {
    for (const args of [["--not-before", "soon"], ["--expires-in", "1.5"], ["--admin"]]) {
      await expect(
        run(process.execPath, ["dist/local/token.js", ...args], {
          cwd: PROJECT_ROOT,
          env: { TEAMOPS_DEV_DIR: devDir },
        }),
      ).rejects.toMatchObject({ code: 2, stdout: "", stderr: expect.stringContaining("Usage:") });
    }
  });

  it("--help lists every option with its default, and examples, on stdout", async () => {
    const { stdout, stderr } = await run(process.execPath, ["dist/local/token.js", "--help"], {
      cwd: PROJECT_ROOT,
      env: { TEAMOPS_DEV_DIR: devDir },
    });
    expect(stderr).toBe("");
    for (const option of [
      "tenant",
      "groups",
      "scopes",
      "user",
      "app",
      "roles",
      "audience",
      "issuer",
      "expires-in",
      "not-before",
    ]) {
      expect(stdout).toMatch(new RegExp(`^  --${option}\\b.*\\[.+\\]$`, "m"));
    }
    expect(stdout).toContain(DEV_TENANT_ID);
    expect(stdout).toContain(DEV_AUDIENCE);
    expect(stdout).toMatch(/^Examples:$/m);
  });

  it("refuses options that do not apply to the kind of token asked for", async () => {
    for (const [args, message] of [
      [["--roles", "TeamsAsyncOperation.Read.All"], "--roles applies only with --app"],
      [["--app", "--scopes", "TeamsAsyncOperation.Read"], "--scopes describe a user"],
      [["--app", "--groups", TEAM, "--user", OTHER_TENANT], "--groups, --user describe a user"],
    ] as const) {
      await expect(
        run(process.execPath, ["dist/local/token.js", ...args], {
          cwd: PROJECT_ROOT,
          env: { TEAMOPS_DEV_DIR: devDir },
        }),
      ).rejects.toMatchObject({ code: 2, stdout: "", stderr: expect.stringContaining(message) });
    }
  });
});
