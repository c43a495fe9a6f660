/**
 * The catalogue of Graph errors: every one the API answers with is born from it, so a status always goes with the
 * code Graph gives it. A GraphError constructed anywhere else in the sources fails here, with the file named.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ErrorCode,
  GRAPH_ERRORS,
  graphError,
  GraphError,
  type GraphErrorKind,
} from "../../../shared/http/graphError.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const CATALOGUE = "shared/http/graphError.ts";
function sources(): string[] {
  const inFolders = ["shared", "local", "functions", "scripts", "bench"].flatMap((folder) =>
    readdirSync(join(ROOT, folder), { recursive: true, encoding: "utf8" })
      .filter((file) => /\.(?:ts|js|mjs)$/.test(file))
      .map((file) => `${folder}/${file}`),
  );
  return ["index.ts", ...inFolders];
}

const constructs = (file: string) => /\bnew\s+GraphError\s*\(/.test(readFileSync(join(ROOT, file), "utf8"));

describe("the Graph error catalogue", () => {
  it("is where every Graph error is made: no source constructs one elsewhere", () => {
    const files = sources();
    expect(files).toContain("local/runner.ts");
    expect(constructs(CATALOGUE)).toBe(true);
    const outside = files.filter((file) => file !== CATALOGUE && constructs(file));
    expect(outside).toEqual([]);
  });

  it("gives each kind its status and one of Graph's documented codes", () => {
    const codes = new Set<string>(Object.values(ErrorCode));
    for (const [kind, { status, code }] of Object.entries(GRAPH_ERRORS)) {
      const error = graphError(kind as GraphErrorKind, "Why.", { target: "status", headers: { "Retry-After": "2" } });
      expect(error).toBeInstanceOf(GraphError);
      expect({ kind, status: error.status, code: error.code }).toEqual({ kind, status, code });
      expect(codes.has(code)).toBe(true);
      expect(error.target).toBe("status");
      expect(error.headers).toEqual({ "Retry-After": "2" });
    }
  });

  it("answers the HTTP statuses Graph uses for them", () => {
    expect(graphError("methodNotAllowed", "No.").status).toBe(405);
    expect(graphError("unauthenticated", "No.").code).toBe("InvalidAuthenticationToken");
    expect(graphError("serviceUnavailable", "Later.").code).toBe("serviceNotAvailable");
    expect(graphError("internal", "Bug.").code).toBe("generalException");
  });
});
