/**
 * A client generated from the API's own OpenAPI description by a mainstream
 * generator, `@hey-api/openapi-ts`, with its zod plugin validating every
 * answer against the document's schemas, as an application would generate
 * one: from the running API's `openapi.json`, then compiled with `tsc` and
 * called over real HTTP. What generators notice about a description shows
 * here: operation and parameter names (Graph's), answers that `$select` cuts
 * short (no property is required of them), errors in Graph's shape.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createClient } from "@hey-api/openapi-ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OTHER_TEAM, TEAM } from "../support/http.js";
import { PROJECT_ROOT, startStack, type Stack } from "../support/stack.js";

const run = promisify(execFile);

let stack: Stack;
let folder: string;
let sdk: any;
let token: string;

beforeAll(async () => {
  stack = await startStack();
  token = await stack.token({ groups: [TEAM] });
  folder = mkdtempSync(join(tmpdir(), "teamops-generated-"));
  // The generated code imports its dependencies (zod) as an application's would: from a node_modules beside it.
  symlinkSync(join(PROJECT_ROOT, "node_modules"), join(folder, "node_modules"), "dir");
  const output = join(folder, "client");
  await createClient({
    input: `${stack.baseUrl}/openapi.json`,
    output,
    plugins: ["@hey-api/client-fetch", "zod", { name: "@hey-api/sdk", validator: true }],
    logs: { level: "silent" },
  });
  sdk = await import(join(output, "index.ts"));
  const { client } = (await import(join(output, "client.gen.ts"))) as { client: any };
  client.setConfig({ baseUrl: stack.baseUrl, auth: () => token });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe("a client generated from openapi.json with @hey-api/openapi-ts", () => {
  it("compiles with tsc, strict", async () => {
    const tsc = join(PROJECT_ROOT, "node_modules/.bin/tsc");
    const options = ["--noEmit", "--strict", "--target", "es2022", "--module", "esnext"];
    const files = ["index.ts", "client.gen.ts", "sdk.gen.ts", "zod.gen.ts"].map((f) => join(folder, "client", f));
    await expect(
      run(tsc, [...options, "--moduleResolution", "bundler", "--skipLibCheck", ...files], { cwd: folder }),
    ).resolves.toBeDefined();
  }, 120_000);

  it("names each operation as Graph's OpenAPI does", () => {
    const sdkSource = readFileSync(join(folder, "client", "sdk.gen.ts"), "utf8");
    for (const name of [
      "teamsListOperations",
      "teamsCreateOperations",
      "teamsGetOperations",
      "teamsUpdateOperations",
      "teamsDeleteOperations",
      "meJoinedTeamsGetOperations",
      "subscriptionsSubscriptionReauthorize",
    ]) {
      expect(typeof sdk[name], name).toBe("function");
    }
    expect(sdkSource).toContain("/teams/{team-id}/operations/{teamsAsyncOperation-id}");
  });

  it("creates, reads (whole and $select-ed), lists, counts, updates and deletes, every answer validated", async () => {
    const created = await sdk.teamsCreateOperations({
      path: { "team-id": TEAM },
      body: { operationType: "archiveTeam", status: "inProgress" },
    });
    expect(created.error, JSON.stringify(created.error)).toBeUndefined();
    expect(created.response.status).toBe(201);
    const id = created.data.id as string;
    const path = { "team-id": TEAM, "teamsAsyncOperation-id": id };

    const read = await sdk.teamsGetOperations({ path });
    expect(read.data).toMatchObject({ id, operationType: "archiveTeam", status: "inProgress", error: null });
    // What $select leaves out is not missing: the answer is valid, with only what was asked for.
    const selected = await sdk.teamsGetOperations({ path, query: { $select: ["id", "status"] } });
    expect(selected.error, JSON.stringify(selected.error)).toBeUndefined();
    expect(Object.keys(selected.data).filter((k) => !k.startsWith("@"))).toEqual(["id", "status"]);

    const listed = await sdk.meJoinedTeamsListOperations({
      path: { "team-id": TEAM },
      query: {
        $filter: "status eq 'inProgress'",
        $orderby: ["lastActionDateTime desc", "createdDateTime"],
        $select: ["id", "lastActionDateTime"],
        $top: 5,
        $count: true,
      },
    });
    expect(listed.error, JSON.stringify(listed.error)).toBeUndefined();
    expect(listed.data.value.map((o: { id: string }) => o.id)).toContain(id);
    expect(Number(listed.data["@odata.count"])).toBeGreaterThanOrEqual(1);

    const updated = await sdk.teamsUpdateOperations({
      path,
      body: { status: "succeeded" },
      headers: { "If-Match": read.response.headers.get("etag") },
    });
    expect(updated.data.status).toBe("succeeded");
    const deleted = await sdk.teamsDeleteOperations({ path });
    expect(deleted.response.status).toBe(204);
  });

  it("gets Graph's errors as the document describes them", async () => {
    const refused = await sdk.teamsListOperations({ path: { "team-id": OTHER_TEAM } });
    expect(refused.response.status).toBe(403);
    expect(refused.error.error).toMatchObject({
      code: "accessDenied",
      innerError: { "request-id": expect.any(String) },
    });
    // A body the document's schema admits and the service refuses: an id already taken.
    const body = { id: `generated-${Date.now()}`, operationType: "cloneTeam" };
    expect((await sdk.teamsCreateOperations({ path: { "team-id": TEAM }, body })).response.status).toBe(201);
    const taken = await sdk.teamsCreateOperations({ path: { "team-id": TEAM }, body });
    expect(taken.response.status).toBe(409);
    expect(taken.error.error).toMatchObject({ code: "nameAlreadyExists", target: "id" });
  });
});
