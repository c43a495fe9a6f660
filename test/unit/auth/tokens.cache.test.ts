/**
 * Verified tokens are remembered so a polling client's signature is checked
 * once, but never across a change of the key set and never for a failure.
 * Real jose remote key set against a JWKS server on loopback.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createAuthenticator } from "../../../shared/auth/tokens.js";
import { loadConfig } from "../../../shared/config.js";
import {
  appClaims,
  createSigningKey,
  sign,
  startJwksServer,
  type JwksServer,
  type SigningKey,
} from "../../support/jwks.js";

const TENANT = "b2b2b2b2-0000-4000-8000-0000000000b2";
const AUDIENCE = "api://token-cache-test";
let jwks: JwksServer;
let k1: SigningKey;
let k2: SigningKey;

beforeAll(async () => {
  k1 = await createSigningKey();
  k2 = await createSigningKey();
  jwks = await startJwksServer([k1]);
});
afterAll(() => jwks?.close());
// The clock jose reads for its cooldown: moved on, not waited for.
afterEach(() => vi.useRealTimers());

function authenticator() {
  const config = loadConfig({
    COSMOS_ENDPOINT: "http://127.0.0.1:1/",
    AUTH_AUDIENCES: AUDIENCE,
    AUTH_TENANTS: TENANT,
    AUTH_JWKS_URI: jwks.url,
    AUTH_JWKS_CACHE_SECONDS: "3600",
    AUTH_JWKS_COOLDOWN_SECONDS: "1",
  });
  return createAuthenticator(config.auth);
}

describe("remembered verifications", () => {
  it("verify a repeated token once, and answer the same claims", async () => {
    const authenticate = authenticator();
    const token = await sign(k1, appClaims({ tenant: TENANT, audience: AUDIENCE }));
    const first = await authenticate(`Bearer ${token}`);
    const second = await authenticate(`Bearer ${token}`);
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(jwks.fetches).toBeGreaterThan(0);
  });

  it("are dropped when the key set changes: a token of a withdrawn key is refused although it passed before", async () => {
    const authenticate = authenticator();
    const old = await sign(k1, appClaims({ tenant: TENANT, audience: AUDIENCE }));
    await authenticate(`Bearer ${old}`);
    jwks.publish([k2]);
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 1_100 }); // past the cooldown: a new kid may refetch
    await authenticate(`Bearer ${await sign(k2, appClaims({ tenant: TENANT, audience: AUDIENCE }))}`);
    await expect(authenticate(`Bearer ${old}`)).rejects.toMatchObject({ status: 401, message: /unknown key/ });
  });

  it("never remember a failure", async () => {
    const authenticate = authenticator();
    jwks.publish([k1, k2]);
    const wrongAudience = await sign(k1, appClaims({ tenant: TENANT, audience: "api://other" }));
    for (let i = 0; i < 2; i++) {
      await expect(authenticate(`Bearer ${wrongAudience}`)).rejects.toMatchObject({ status: 401 });
    }
  });
});
