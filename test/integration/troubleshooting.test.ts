/**
 * The README's Troubleshooting entries quote what the product prints: each entry's message is provoked here as a
 * user meets it (a clone without node_modules, a taken port, a token captured outside the project or without
 * --silent, ...), and must be found, numbers aside, in what the product printed or answered.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDevKeys, mintDevToken } from "../../local/devIdentity.js";
import { RUNNER_SETTINGS } from "../../local/runnerSettings.js";
import { findFunc } from "../../scripts/prepare-local.js";
import { callerFromClaims, requireTeamAccess } from "../../shared/auth/access.js";
import { bearerToken, createAuthenticator } from "../../shared/auth/tokens.js";
import { loadConfig, misspeltSettings, SETTINGS } from "../../shared/config.js";
import { TEAM } from "../support/http.js";
import { holdPort, PROJECT_ROOT } from "../support/stack.js";

const run = promisify(execFile);
const folders: string[] = [];
const folder = (prefix: string) => {
  const path = mkdtempSync(join(tmpdir(), prefix));
  folders.push(path);
  return path;
};

let taken: Awaited<ReturnType<typeof holdPort>>;
let takenPort: number;
beforeAll(async () => {
  taken = await holdPort();
  takenPort = taken.port;
});
afterAll(async () => {
  await taken.release();
  for (const path of folders) rmSync(path, { recursive: true, force: true });
});

/** What a failed command printed on stderr. */
async function stderrOf(command: Promise<unknown>): Promise<string> {
  try {
    await command;
  } catch (error) {
    return (error as { stderr: string }).stderr;
  }
  throw new Error("the command succeeded");
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("nothing was thrown");
}

const env = (extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH ?? "",
  HOME: process.env.HOME ?? "",
  ...extra,
});

/** How each entry's situation is met, keyed by the start of the message the README quotes. */
const PROVOKE: Record<string, () => Promise<string>> = {
  "The dependencies are not installed": async () => {
    const clone = folder("teamops-clone-");
    for (const path of ["package.json", "scripts"]) {
      cpSync(join(PROJECT_ROOT, path), join(clone, path), { recursive: true });
    }
    return stderrOf(run("npm", ["start"], { cwd: clone, env: env({ PORT: "0" }) }));
  },
  "Port 7071 on 127.0.0.1 is taken": () =>
    stderrOf(run("npm", ["start"], { cwd: PROJECT_ROOT, env: env({ PORT: String(takenPort) }) })),
  "Port 10001 on 127.0.0.1 is taken": () =>
    stderrOf(
      run(process.execPath, ["dist/local/runner.js"], {
        cwd: PROJECT_ROOT,
        env: env({ PORT: "0", LOCAL_PERSISTENCE: "off", AZURITE_QUEUE_PORT: String(takenPort) }),
        timeout: 60_000,
      }),
    ),
  "LOCAL_PERSISTANCE is not a setting": async () =>
    misspeltSettings(
      ["LOCAL_PERSISTANCE"],
      RUNNER_SETTINGS.map((s) => s.name),
      SETTINGS.map((s) => s.name),
    ).join("\n"),
  "Configuration error: AUTH_TENANTS is required": async () => messageOf(() => loadConfig({})),
  "The Authorization header is 'Bearer' with no token after it.": async () => {
    const { stdout } = await run("bash", ["-c", 'TOKEN=$(npm run --silent token -- --app); echo "Bearer $TOKEN"'], {
      cwd: folder("teamops-outside-"),
      env: env(),
    });
    return messageOf(() => bearerToken(stdout.trim(), undefined, true));
  },
  "The Authorization header holds": async () => {
    const devDir = folder("teamops-dev-");
    const { stdout } = await run("npm", ["run", "token", "--", "--groups", TEAM], {
      cwd: PROJECT_ROOT,
      env: env({ TEAMOPS_DEV_DIR: devDir }),
    });
    // What `TOKEN=$(...)` keeps (trailing line feeds dropped), sent as curl sends it.
    return messageOf(() => bearerToken(`Bearer ${stdout.replace(/\n+$/, "")}`, undefined, true));
  },
  "The access token was signed by an unknown key.": async () => {
    const [mine, another] = [await ensureDevKeys(folder("teamops-dev-")), await ensureDevKeys(folder("teamops-dev-"))];
    const authenticate = createAuthenticator(
      loadConfig({
        COSMOS_ENDPOINT: "http://127.0.0.1:1/",
        AUTH_AUDIENCES: "api://team-operations-local",
        AUTH_TENANTS: "*",
        AUTH_JWKS_FILE: mine.jwksFile,
      }).auth,
    );
    const token = await mintDevToken({ app: true }, another);
    return authenticate(`Bearer ${token}`).then(
      () => "accepted",
      (error: Error) => error.message,
    );
  },
  "The signed-in user is not a member of this team.": async () => {
    const caller = callerFromClaims({
      tid: "d0d0d0d0-0000-4000-8000-000000000001",
      oid: "d0d0d0d0-0000-4000-8000-0000000000a1",
      scp: "TeamsAsyncOperation.ReadWrite",
      groups: [],
    });
    return messageOf(() => requireTeamAccess(caller, TEAM, { kind: "team", noun: "team" }));
  },
  "npm run start:func needs Azure Functions Core Tools": async () => {
    const project = folder("teamops-no-func-");
    cpSync(join(PROJECT_ROOT, "package.json"), join(project, "package.json"));
    return messageOf(() => findFunc(project, "/nonexistent"));
  },
};

/** The message each Troubleshooting entry quotes: its first code span, in bold. */
function entries(): string[] {
  const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
  const section = /^## Troubleshooting\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? "";
  return [...section.matchAll(/^- \*\*(?:\d{3} )?`([^`]+)`\*\*/gm)].map((m) => m[1]!);
}

/** Numbers differ from run to run (ports, counts): compared by shape. */
const shape = (text: string) => text.replace(/\d+/g, "N");

describe("the README's Troubleshooting", () => {
  it("has entries, each for a situation this test provokes", () => {
    expect(entries().length).toBeGreaterThanOrEqual(8);
    const unknown = entries().filter((message) => !Object.keys(PROVOKE).some((key) => message.startsWith(key)));
    expect(unknown).toEqual([]);
  });

  it.each(entries())(
    "quotes what the product prints: %s",
    async (message) => {
      const key = Object.keys(PROVOKE).find((k) => message.startsWith(k))!;
      const printed = await PROVOKE[key]!();
      expect(shape(printed)).toContain(shape(message));
    },
    120_000,
  );
});
