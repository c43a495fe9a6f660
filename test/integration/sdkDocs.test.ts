/**
 * docs/sdks.md as a user follows it: the local runner with `LOCAL_HTTPS=on`
 * and its development certificate, trusted the way the page says (Node.js's
 * NODE_EXTRA_CA_CERTS, .NET's SSL_CERT_FILE), never by turning verification
 * off, and each of the page's snippets run as written: the Kiota TypeScript
 * SDK and `@microsoft/microsoft-graph-client` with Node.js, the .NET SDK
 * (Microsoft.Graph 6.10.0 from NuGet) compiled and run with the .NET SDK,
 * which the infrastructure tests need too.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, startStack, type Stack } from "../support/stack.js";

const run = promisify(execFile);

/** The page's snippet marked `<!-- snippet: name -->`, as written. */
function snippet(name: string): string {
  const page = readFileSync(join(PROJECT_ROOT, "docs/sdks.md"), "utf8");
  const found = new RegExp(`<!-- snippet: ${name.replace(".", "\\.")} -->\\s*\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(
    page,
  );
  if (!found) throw new Error(`docs/sdks.md has no snippet ${name}`);
  return found[1]!;
}

let stack: Stack;
let certFile: string;
let folder: string;

beforeAll(async () => {
  stack = await startStack({ env: { LOCAL_HTTPS: "on" } });
  certFile = join(stack.devDir, "localhost.crt");
  folder = mkdtempSync(join(tmpdir(), "teamops-sdk-docs-"));
  // The snippets import the SDKs as an application does: from a node_modules beside them.
  symlinkSync(join(PROJECT_ROOT, "node_modules"), join(folder, "node_modules"), "dir");
  writeFileSync(join(folder, "package.json"), JSON.stringify({ type: "module" }));
});
afterAll(async () => {
  await stack?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

/** What the snippets read from the environment, for a new team the token's user is a member of. */
async function environment(): Promise<{ team: string; env: Record<string, string> }> {
  const team = randomUUID();
  const token = await stack.token({ groups: [team] });
  return { team, env: { PATH: process.env.PATH ?? "", API: stack.baseUrl, TEAM: team, TOKEN: token } };
}

async function storedStatus(team: string, id: string): Promise<unknown> {
  const documents = await stack.documents();
  return documents.find((d) => d.teamId === team && d.operationId === id)?.status;
}

describe("LOCAL_HTTPS=on", () => {
  it("serves https with the development certificate, which verifies for 127.0.0.1", async () => {
    expect(stack.baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v1\.0$/);
    const status = await new Promise<number>((resolve, reject) => {
      request(`${stack.baseUrl}/health`, { ca: readFileSync(certFile) }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on("error", reject)
        .end();
    });
    expect(status).toBe(200);
    // Without it, the certificate is not trusted: nothing is turned off.
    await expect(fetch(`${stack.baseUrl}/health`)).rejects.toThrow();
  });
});

describe("the snippets of docs/sdks.md", () => {
  /** Runs a Node.js snippet as the page says (its certificate trusted), and checks the operation it created. */
  async function runsWithNode(file: string, printed: string): Promise<void> {
    const { team, env } = await environment();
    writeFileSync(join(folder, file), snippet(file));
    const { stdout } = await run(process.execPath, [file], {
      cwd: folder,
      env: { ...env, NODE_EXTRA_CA_CERTS: certFile },
    });
    const [, id] = new RegExp(`^${printed}: (\\S+) inProgress$`, "m").exec(stdout) ?? [];
    expect(id, stdout).toMatch(/^[0-9a-f-]{36}$/);
    expect(await storedStatus(team, id!)).toBe("inProgress");
  }

  it(
    "the Kiota TypeScript SDK: creates and reads an operation over https",
    () => runsWithNode("kiota.ts", "kiota"),
    60_000,
  );

  it(
    "@microsoft/microsoft-graph-client: creates and reads an operation over https",
    () => runsWithNode("client.mjs", "client"),
    60_000,
  );

  it("the .NET SDK, Microsoft.Graph 6.10.0: compiles, then creates and reads an operation over https", async () => {
    const { team, env } = await environment();
    const project = join(folder, "dotnet");
    const csproj = [
      `<Project Sdk="Microsoft.NET.Sdk">`,
      `  <PropertyGroup>`,
      `    <OutputType>Exe</OutputType>`,
      `    <TargetFramework>net10.0</TargetFramework>`,
      `    <Nullable>enable</Nullable>`,
      `    <ImplicitUsings>enable</ImplicitUsings>`,
      `  </PropertyGroup>`,
      `  <ItemGroup>`,
      `    <PackageReference Include="Microsoft.Graph" Version="6.10.0" />`,
      `  </ItemGroup>`,
      `</Project>`,
    ].join("\n");
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, "SdkSnippet.csproj"), csproj);
    writeFileSync(join(project, "Program.cs"), snippet("Program.cs"));
    const dotnetEnv = { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: "1", DOTNET_NOLOGO: "1" };
    await run("dotnet", ["build", "-nologo", "-v", "q", "-o", join(project, "out")], {
      cwd: project,
      env: dotnetEnv,
      maxBuffer: 16 * 1024 * 1024,
    });
    const { stdout } = await run("dotnet", [join(project, "out", "SdkSnippet.dll")], {
      cwd: project,
      env: { ...dotnetEnv, ...env, SSL_CERT_FILE: certFile },
    });
    const [, id] = /^dotnet: (\S+) InProgress$/m.exec(stdout) ?? [];
    expect(id, stdout).toMatch(/^[0-9a-f-]{36}$/);
    expect(await storedStatus(team, id!)).toBe("inProgress");
  }, 300_000);
});
