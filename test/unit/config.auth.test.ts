/** The AUTH_* settings: documented defaults and the configurations the app refuses to start with. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, SETTINGS } from "../../shared/config.js";

const complete = {
  COSMOS_ENDPOINT: "https://acct.documents.azure.com:443/",
  AUTH_AUDIENCES: "api://team-operations",
  AUTH_TENANTS: "*",
};

function jwksFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "teamops-auth-")), "jwks.json");
  writeFileSync(file, content);
  return file;
}

describe("AUTH_* configuration", () => {
  it("caches remote signing keys for an hour with a 30 s refetch cooldown by default", () => {
    const { auth } = loadConfig(complete);
    expect(auth).toMatchObject({ tenants: "*", jwksCacheSeconds: 3600, jwksCooldownSeconds: 30, jwksFile: undefined });
    expect(SETTINGS.find((s) => s.name === "AUTH_JWKS_CACHE_SECONDS")?.default).toBe("3600");
    expect(SETTINGS.find((s) => s.name === "AUTH_JWKS_COOLDOWN_SECONDS")?.default).toBe("30");
  });

  it("takes shorter key cache and cooldown settings", () => {
    const { auth } = loadConfig({ ...complete, AUTH_JWKS_CACHE_SECONDS: "3", AUTH_JWKS_COOLDOWN_SECONDS: "1" });
    expect(auth).toMatchObject({ jwksCacheSeconds: 3, jwksCooldownSeconds: 1 });
  });

  it("accepts plain http for the key set only on loopback", () => {
    expect(loadConfig({ ...complete, AUTH_JWKS_URI: "http://127.0.0.1:4000/keys" }).auth.jwksUri).toBe(
      "http://127.0.0.1:4000/keys",
    );
  });

  it("reads a readable JWKS file", () => {
    const file = jwksFile('{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}');
    expect(loadConfig({ ...complete, AUTH_JWKS_FILE: file }).auth.jwksFile).toBe(file);
  });

  it.each([
    [{ AUTH_AUDIENCES: undefined }, /AUTH_AUDIENCES is required/],
    [{ AUTH_AUDIENCES: "*" }, /wildcards and spaces are refused/],
    [{ AUTH_AUDIENCES: "api://a b" }, /wildcards and spaces are refused/],
    [{ AUTH_TENANTS: "" }, /AUTH_TENANTS is required/],
    [{ AUTH_TENANTS: "*,aaaaaaaa-0000-4000-8000-00000000000a" }, /AUTH_TENANTS must be \*/],
    [{ AUTH_TENANTS: "common" }, /AUTH_TENANTS must be \*/],
    [{ AUTH_TENANTS: "organizations" }, /AUTH_TENANTS must be \*/],
    [{ AUTH_JWKS_URI: "http://169.254.169.254/keys" }, /must be an https URL/],
    [{ AUTH_JWKS_URI: "http://127.0.0.1.evil.example/keys" }, /must be an https URL/],
    [{ AUTH_JWKS_CACHE_SECONDS: "0" }, /AUTH_JWKS_CACHE_SECONDS must be a positive whole number/],
    [{ AUTH_JWKS_COOLDOWN_SECONDS: "-1" }, /AUTH_JWKS_COOLDOWN_SECONDS must be a positive whole number/],
    [{ AUTH_JWKS_COOLDOWN_SECONDS: "1.5" }, /AUTH_JWKS_COOLDOWN_SECONDS must be a positive whole number/],
    [{ AUTH_JWKS_CACHE_SECONDS: "10", AUTH_JWKS_COOLDOWN_SECONDS: "30" }, /must not be longer than/],
    [{ AUTH_JWKS_FILE: "/nonexistent/jwks.json" }, /AUTH_JWKS_FILE .* cannot be read/],
    [{ AUTH_JWKS_FILE: jwksFile("not json") }, /cannot be read as a JSON Web Key Set/],
    [{ AUTH_JWKS_FILE: jwksFile('{"keys":[]}') }, /holds no keys/],
  ])("refuses %j", (override, message) => {
    expect(() => loadConfig({ ...complete, ...override })).toThrow(message);
  });
});
