/**
 * The attack suite: real HTTP against the local runner, with signing keys
 * served by a JWKS endpoint on loopback, so tokens go through the same remote
 * key set (jose's `createRemoteJWKSet`) as Entra ID's keys in Azure. Every
 * refusal must be its documented Graph error, store nothing, and echo or log
 * no token or claim value. One stack for the whole file.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appClaims,
  createSigningKey,
  hmacWithPublicKey,
  sign,
  startJwksServer,
  unsigned,
  userClaims,
  withPayload,
  type JwksServer,
  type SigningKey,
} from "../support/jwks.js";
import { call, expectGraphError, OTHER_TEAM, OTHER_TENANT, TEAM, type ApiResponse } from "../support/http.js";
import { startStack, type Stack } from "../support/stack.js";

const TENANT_A = "aaaaaaaa-0000-4000-8000-00000000000a";
const TENANT_B = OTHER_TENANT;
const TENANT_OUTSIDE = "cccccccc-0000-4000-8000-00000000000c";
const APP_ID_URI = "api://team-operations";
const API_CLIENT_ID = "6a0e4c9d-1111-4222-8333-944455556666";
const COOLDOWN_MS = 1_000;
const CACHE_MS = 3_000;

let stack: Stack;
let jwks: JwksServer;
let k1: SigningKey;
/** Every token this file sends: none may appear in a response or in the runner's log. */
const sent: string[] = [];

beforeAll(async () => {
  k1 = await createSigningKey();
  jwks = await startJwksServer([k1]);
  stack = await startStack({
    env: {
      AUTH_JWKS_URI: jwks.url,
      AUTH_JWKS_FILE: "",
      AUTH_AUDIENCES: `${APP_ID_URI},${API_CLIENT_ID}`,
      AUTH_TENANTS: `${TENANT_A},${TENANT_B}`,
      AUTH_JWKS_COOLDOWN_SECONDS: String(COOLDOWN_MS / 1000),
      AUTH_JWKS_CACHE_SECONDS: String(CACHE_MS / 1000),
      LOG_LEVEL: "debug",
      // The Functions host (Kestrel) accepts 32 KB of request headers; Node's default is 16 KB.
      NODE_OPTIONS: "--max-http-header-size=32768",
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await jwks?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const teamsUrl = (team = TEAM, suffix = "") => `${stack.baseUrl}/teams/${team}/operations${suffix}`;
const meUrl = (group = TEAM) => `${stack.baseUrl}/me/joinedGroups/${group}/team/operations`;
const now = () => Math.floor(Date.now() / 1000);

function track(token: string): string {
  sent.push(token);
  return token;
}
type UserOptions = Omit<Parameters<typeof userClaims>[0], "tenant" | "audience"> & {
  tenant?: string;
  audience?: string;
};
type AppOptions = Omit<Parameters<typeof appClaims>[0], "tenant" | "audience"> & { tenant?: string; audience?: string };
const userToken = async (o: UserOptions = {}, key = k1) =>
  track(await sign(key, userClaims({ tenant: TENANT_A, audience: APP_ID_URI, groups: [TEAM], ...o })));
const appToken = async (o: AppOptions = {}, key = k1) =>
  track(await sign(key, appClaims({ tenant: TENANT_A, audience: APP_ID_URI, ...o })));

/** POST a valid body with this Authorization header (or none). */
function post(url: string, authorization?: string, headers: Record<string, string> = {}): Promise<ApiResponse> {
  return call(url, {
    method: "POST",
    body: { operationType: "cloneTeam" },
    headers: authorization === undefined ? headers : { ...headers, authorization },
  });
}
const bearer = (token: string) => `Bearer ${token}`;

interface Refusal {
  /** The Graph error message must match. */
  readonly message: RegExp;
  /** Values from the request that must not come back (beyond every token sent). */
  readonly secrets?: readonly string[];
  /** For a 401: whether the challenge carries error="invalid_token" (not when no bearer token was offered). */
  readonly invalidToken?: boolean;
}

/** Sends, then checks the Graph error, the challenge, that nothing was stored and nothing echoed. */
async function expectRefused(
  send: () => Promise<ApiResponse>,
  status: number,
  code: string,
  refusal: Refusal,
): Promise<ApiResponse> {
  const before = await stack.documents();
  const res = await send();
  const error = expectGraphError(res, status, code);
  expect(error.message).toMatch(refusal.message);
  const challenge = res.headers.get("www-authenticate");
  if (status === 401) {
    expect(challenge).toMatch(
      /^Bearer realm="", authorization_uri="https:\/\/login\.microsoftonline\.com\/common\/oauth2\/v2\.0\/authorize"/,
    );
    if (refusal.invalidToken === false) {
      expect(challenge).not.toMatch(/error=/);
    } else {
      // RFC 6750: error and a description in quoted-string-safe characters, the same as the body's message.
      expect(challenge).toContain(`, error="invalid_token", error_description="${error.message}"`);
      expect(error.message).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/);
    }
  } else {
    expect(challenge).toBeNull();
  }
  expect(await stack.documents()).toEqual(before);
  const echoed = `${res.text}\n${[...res.headers.values()].join("\n")}`;
  for (const value of [...sent, ...(refusal.secrets ?? [])]) {
    expect(echoed).not.toContain(value);
    // Nor any piece of a token (its payload or signature).
    for (const part of value.split(".").filter((p) => p.length > 20)) expect(echoed).not.toContain(part);
  }
  return res;
}

async function expectCreated(res: ApiResponse, tenant: string): Promise<Record<string, unknown>> {
  expect(res.status, res.text).toBe(201);
  const team = new URL(res.headers.get("location")!).pathname.split("/")[3]!;
  const { resource } = await stack.container.item(`${tenant}:${res.json.id}`, team).read();
  expect(resource).toMatchObject({ tenantId: tenant, operationId: res.json.id });
  return resource;
}

describe("accepted tokens (so the refusals below mean something)", () => {
  it("a delegated v2.0 token on a team in its groups, on /teams and on /me", async () => {
    const token = await userToken();
    const stored = await expectCreated(await post(teamsUrl(), bearer(token)), TENANT_A);
    expect(stored.createdBy).toMatchObject({ kind: "user" });
    await expectCreated(await post(meUrl(), bearer(token)), TENANT_A);
  });

  it("an application v2.0 token (roles, sub = oid, no idtyp) on any team of its tenant", async () => {
    const stored = await expectCreated(await post(teamsUrl(OTHER_TEAM), bearer(await appToken())), TENANT_A);
    expect(stored.createdBy).toMatchObject({ kind: "application" });
  });

  it("an application token that says idtyp: app", async () => {
    await expectCreated(await post(teamsUrl(), bearer(await appToken({ claims: { idtyp: "app" } }))), TENANT_A);
  });

  it("a v1.0 application token (sts.windows.net issuer, appid)", async () => {
    await expectCreated(await post(teamsUrl(), bearer(await appToken({ version: "1.0" }))), TENANT_A);
  });

  it("the API's client id as audience, as v2.0 tokens carry it", async () => {
    await expectCreated(await post(teamsUrl(), bearer(await appToken({ audience: API_CLIENT_ID }))), TENANT_A);
  });

  it("the second allowed tenant, stored as its own", async () => {
    await expectCreated(await post(teamsUrl(), bearer(await appToken({ tenant: TENANT_B }))), TENANT_B);
  });

  it("a lower-case scheme name (RFC 7235: case-insensitive)", async () => {
    await expectCreated(await post(teamsUrl(), `bearer ${await appToken()}`), TENANT_A);
  });

  it("a token that expired within the clock tolerance (60 s)", async () => {
    const token = await appToken({ claims: { exp: now() - 10, nbf: now() - 3600 } });
    await expectCreated(await post(teamsUrl(), bearer(token)), TENANT_A);
  });
});

describe("malformed Authorization headers: 401", () => {
  it("no header: 401 with a challenge but no error code (RFC 6750 3.1)", async () => {
    await expectRefused(() => post(teamsUrl()), 401, "InvalidAuthenticationToken", {
      message: /^Access token is empty\.$/,
      invalidToken: false,
    });
  });

  it("an empty header", async () => {
    await expectRefused(() => post(teamsUrl(), ""), 401, "InvalidAuthenticationToken", {
      message: /^Access token is empty\.$/,
      invalidToken: false,
    });
  });

  it("another scheme (Basic)", async () => {
    const basic = Buffer.from("admin:hunter2").toString("base64");
    await expectRefused(() => post(teamsUrl(), `Basic ${basic}`), 401, "InvalidAuthenticationToken", {
      message: /Bearer scheme/,
      invalidToken: false,
      secrets: [basic],
    });
  });

  it("another scheme carrying a valid token (PoP)", async () => {
    const token = await appToken();
    await expectRefused(() => post(teamsUrl(), `PoP ${token}`), 401, "InvalidAuthenticationToken", {
      message: /Bearer scheme/,
      invalidToken: false,
    });
  });

  it('"Bearer" with nothing after it', async () => {
    await expectRefused(() => post(teamsUrl(), "Bearer"), 401, "InvalidAuthenticationToken", {
      message: /'Bearer' with no token after it/,
    });
  });

  it("two valid tokens in one header, comma-separated (as two headers are joined)", async () => {
    const [a, b] = [await appToken(), await appToken({ tenant: TENANT_B })];
    await expectRefused(() => post(teamsUrl(), `Bearer ${a}, Bearer ${b}`), 401, "InvalidAuthenticationToken", {
      message: /3 words after 'Bearer', where exactly one token belongs/,
    });
  });

  it("two valid tokens after one Bearer", async () => {
    const [a, b] = [await appToken(), await appToken()];
    await expectRefused(() => post(teamsUrl(), `Bearer ${a} ${b}`), 401, "InvalidAuthenticationToken", {
      message: /2 words after 'Bearer', where exactly one token belongs/,
    });
  });

  it("characters a token cannot hold", async () => {
    await expectRefused(() => post(teamsUrl(), `Bearer "><script>`), 401, "InvalidAuthenticationToken", {
      message: /exactly one token/,
      secrets: ["<script>"],
    });
  });

  it("a 20 KB token, validly signed, refused for its size before verification", async () => {
    const token = await appToken({ claims: { padding: "x".repeat(20 * 1024) } });
    expect(token.length).toBeGreaterThan(20 * 1024);
    await expectRefused(() => post(teamsUrl(), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /too large/,
    });
  });

  it("something that is not a JWT", async () => {
    await expectRefused(() => post(teamsUrl(), "Bearer abc.def.ghi"), 401, "InvalidAuthenticationToken", {
      message: /malformed/,
    });
  });
});

describe("never trusted: query-string tokens, function keys, X-MS-CLIENT-PRINCIPAL*", () => {
  const principal = (tenant: string) =>
    Buffer.from(
      JSON.stringify({
        auth_typ: "aad",
        claims: [
          { typ: "http://schemas.microsoft.com/identity/claims/tenantid", val: tenant },
          { typ: "roles", val: "TeamsAsyncOperation.ReadWrite.All" },
        ],
        name_typ: "name",
        role_typ: "roles",
      }),
    ).toString("base64");
  const forged = (tenant = TENANT_A) => ({
    "x-ms-client-principal": principal(tenant),
    "x-ms-client-principal-id": "5b5b5b5b-0000-4000-8000-0000000000ff",
    "x-ms-client-principal-name": "admin@contoso.example",
    "x-ms-client-principal-idp": "aad",
    "x-ms-token-aad-access-token": "forged",
  });

  it("a valid token in ?access_token= is ignored: 401", async () => {
    const token = await appToken();
    await expectRefused(() => post(`${teamsUrl()}?access_token=${token}`), 401, "InvalidAuthenticationToken", {
      message: /^Access token is empty\.$/,
      invalidToken: false,
    });
  });

  it("a function key (?code= and x-functions-key) grants nothing: 401", async () => {
    await expectRefused(
      () => post(`${teamsUrl()}?code=master-key-guess`, undefined, { "x-functions-key": "master-key-guess" }),
      401,
      "InvalidAuthenticationToken",
      { message: /^Access token is empty\.$/, invalidToken: false, secrets: ["master-key-guess"] },
    );
  });

  it("forged X-MS-CLIENT-PRINCIPAL headers without a token: 401", async () => {
    await expectRefused(() => post(teamsUrl(), undefined, forged()), 401, "InvalidAuthenticationToken", {
      message: /^Access token is empty\.$/,
      invalidToken: false,
      secrets: [principal(TENANT_A)],
    });
  });

  it("forged X-MS-CLIENT-PRINCIPAL headers with an invalid token: 401", async () => {
    await expectRefused(
      () => post(teamsUrl(), bearer(unsigned(appClaims({ tenant: TENANT_A, audience: APP_ID_URI }), k1.kid)), forged()),
      401,
      "InvalidAuthenticationToken",
      { message: /algorithm/ },
    );
  });

  it("forged headers claiming app roles do not widen a delegated token: 403 outside its groups", async () => {
    const token = await userToken();
    await expectRefused(() => post(teamsUrl(OTHER_TEAM), bearer(token), forged()), 403, "accessDenied", {
      message: /not a member of this team/,
    });
  });

  it("forged headers naming another tenant do not move an application token to it", async () => {
    const res = await post(teamsUrl(), bearer(await appToken()), forged(TENANT_B));
    await expectCreated(res, TENANT_A);
  });
});

describe("forged and tampered tokens: 401", () => {
  it("alg: none", async () => {
    const token = track(unsigned(appClaims({ tenant: TENANT_A, audience: APP_ID_URI }), k1.kid));
    await expectRefused(() => post(teamsUrl(), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /signing algorithm is not allowed/,
    });
  });

  it("HS256 signed with the published public key as the secret", async () => {
    const token = track(hmacWithPublicKey(k1, appClaims({ tenant: TENANT_A, audience: APP_ID_URI })));
    await expectRefused(() => post(teamsUrl(), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /signing algorithm is not allowed/,
    });
  });

  it("RS512 with the real key (the algorithm is pinned to RS256)", async () => {
    const token = track(await sign(k1, appClaims({ tenant: TENANT_A, audience: APP_ID_URI }), { alg: "RS512" }));
    await expectRefused(() => post(teamsUrl(), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /signing algorithm is not allowed/,
    });
  });

  it("signed by another key under the published kid", async () => {
    const attacker = await createSigningKey(k1.kid);
    const token = await appToken({}, attacker);
    await expectRefused(() => post(teamsUrl(), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /signature is invalid/,
    });
  });

  it("signed by a key that was never published (unknown kid)", async () => {
    const token = await appToken({}, await createSigningKey());
    await expectRefused(() => post(teamsUrl(), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /unknown key/,
    });
  });

  it("payload edited after signing: groups widened to another team", async () => {
    const token = track(withPayload(await userToken(), (c) => (c.groups = [TEAM, OTHER_TEAM])));
    await expectRefused(() => post(teamsUrl(OTHER_TEAM), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /signature is invalid/,
    });
  });

  it("payload edited after signing: a user token turned into an application token", async () => {
    const token = track(
      withPayload(await userToken(), (c) => {
        delete c.scp;
        c.sub = c.oid;
        c.roles = ["TeamsAsyncOperation.ReadWrite.All"];
      }),
    );
    await expectRefused(() => post(teamsUrl(OTHER_TEAM), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /signature is invalid/,
    });
  });

  it("payload edited after signing: moved to another tenant", async () => {
    const token = track(
      withPayload(await appToken(), (c) => {
        c.tid = TENANT_B;
        c.iss = `https://login.microsoftonline.com/${TENANT_B}/v2.0`;
      }),
    );
    await expectRefused(() => post(teamsUrl(), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /signature is invalid/,
    });
  });
});

describe("validly signed tokens with bad claims: 401", () => {
  it("expired (beyond the 60 s tolerance)", async () => {
    const token = await appToken({ claims: { iat: now() - 4000, nbf: now() - 4000, exp: now() - 600 } });
    await expectRefused(() => post(teamsUrl(), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /expired/,
    });
  });

  it("not yet valid", async () => {
    const token = await appToken({ claims: { nbf: now() + 600, exp: now() + 4200 } });
    await expectRefused(() => post(teamsUrl(), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /not yet valid/,
    });
  });

  it("without exp", async () => {
    const token = await appToken({ claims: { exp: undefined } });
    await expectRefused(() => post(teamsUrl(), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /'exp'/,
    });
  });

  it("for another audience", async () => {
    const token = await appToken({ audience: "api://someone-else" });
    await expectRefused(() => post(teamsUrl(), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /audience/,
      secrets: ["api://someone-else"],
    });
  });

  it("a Microsoft Graph token replayed here", async () => {
    const token = await userToken({ audience: "https://graph.microsoft.com" });
    await expectRefused(() => post(teamsUrl(), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /audience/,
      secrets: ["graph.microsoft.com"],
    });
  });

  it("from another issuer", async () => {
    const token = await appToken({ claims: { iss: `https://evil.example/${TENANT_A}/v2.0` } });
    await expectRefused(() => post(teamsUrl(), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /issuer does not match/,
      secrets: ["evil.example"],
    });
  });

  it("issuer of one tenant, tid of another (both allowed)", async () => {
    const token = await appToken({ claims: { iss: `https://login.microsoftonline.com/${TENANT_B}/v2.0` } });
    await expectRefused(() => post(teamsUrl(), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /issuer does not match/,
    });
  });

  it("a tenant outside the allow-list", async () => {
    const token = await appToken({ tenant: TENANT_OUTSIDE });
    await expectRefused(() => post(teamsUrl(), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /tenant is not allowed/,
      secrets: [TENANT_OUTSIDE],
    });
  });

  it("without tid", async () => {
    const token = await appToken({ claims: { tid: undefined } });
    await expectRefused(() => post(teamsUrl(), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /'tid'/,
    });
  });

  it("a tid that is not a GUID", async () => {
    const token = await appToken({
      claims: { tid: "contoso.example", iss: "https://login.microsoftonline.com/contoso.example/v2.0" },
    });
    await expectRefused(() => post(teamsUrl(), bearer(token)), 401, "InvalidAuthenticationToken", {
      message: /'tid'/,
      secrets: ["contoso.example"],
    });
  });
});

describe("permissions and teams: 403 naming what is missing", () => {
  it("a read-only delegated scope on a write", async () => {
    const token = await userToken({ scp: "TeamsAsyncOperation.Read" });
    await expectRefused(() => post(teamsUrl(), bearer(token)), 403, "accessDenied", {
      message: /delegated permission TeamsAsyncOperation\.ReadWrite \(scp\)/,
    });
  });

  it("a delegated token with other scopes only", async () => {
    const token = await userToken({ scp: "User.Read Group.Read.All" });
    await expectRefused(() => post(teamsUrl(), bearer(token)), 403, "accessDenied", {
      message: /delegated permission TeamsAsyncOperation\.ReadWrite \(scp\)/,
    });
  });

  it("a read-only application role on a write", async () => {
    const token = await appToken({ roles: ["TeamsAsyncOperation.Read.All"] });
    await expectRefused(() => post(teamsUrl(), bearer(token)), 403, "accessDenied", {
      message: /application permission TeamsAsyncOperation\.ReadWrite\.All \(roles\)/,
    });
  });

  it("an application token without roles", async () => {
    const token = await appToken({ claims: { roles: undefined, idtyp: "app" } });
    await expectRefused(() => post(teamsUrl(), bearer(token)), 403, "accessDenied", {
      message: /application permission TeamsAsyncOperation\.ReadWrite\.All \(roles\)/,
    });
  });

  it("a token with neither scp nor roles", async () => {
    const token = await userToken({ claims: { scp: undefined } });
    await expectRefused(() => post(teamsUrl(), bearer(token)), 403, "accessDenied", {
      message: /TeamsAsyncOperation\.ReadWrite \(scp\).*TeamsAsyncOperation\.ReadWrite\.All \(roles\)/,
    });
  });

  it("a user token with app roles but no scp is not an application token", async () => {
    const token = await userToken({ claims: { scp: undefined, roles: ["TeamsAsyncOperation.ReadWrite.All"] } });
    await expectRefused(() => post(teamsUrl(OTHER_TEAM), bearer(token)), 403, "accessDenied", {
      message: /user token without delegated permissions/,
    });
  });

  it("idtyp: user wins over sub = oid", async () => {
    const token = await appToken({ claims: { idtyp: "user" } });
    await expectRefused(() => post(teamsUrl(OTHER_TEAM), bearer(token)), 403, "accessDenied", {
      message: /user token without delegated permissions/,
    });
  });

  it("a delegated token with ReadWrite.All in roles stays limited to its groups", async () => {
    const token = await userToken({ claims: { roles: ["TeamsAsyncOperation.ReadWrite.All"], idtyp: "app" } });
    await expectRefused(() => post(teamsUrl(OTHER_TEAM), bearer(token)), 403, "accessDenied", {
      message: /not a member of this team/,
    });
  });

  it("a delegated caller outside the team", async () => {
    const token = await userToken({ groups: [OTHER_TEAM] });
    await expectRefused(() => post(teamsUrl(), bearer(token)), 403, "accessDenied", {
      message: /not a member of this team/,
    });
  });

  it("a delegated caller outside the group on /me", async () => {
    const token = await userToken();
    await expectRefused(() => post(meUrl(OTHER_TEAM), bearer(token)), 403, "accessDenied", {
      message: /not a member of this group/,
    });
  });

  it("an application token on /me", async () => {
    const token = await appToken();
    await expectRefused(() => post(meUrl(), bearer(token)), 403, "accessDenied", {
      message: /\/me routes need a delegated \(user\) token/,
    });
  });

  it("group overage (_claim_names.groups instead of groups), on /teams and /me", async () => {
    const token = await userToken({
      groups: undefined,
      claims: {
        _claim_names: { groups: "src1" },
        _claim_sources: { src1: { endpoint: "https://graph.microsoft.com/v1.0/users/x/getMemberObjects" } },
      },
    });
    for (const url of [teamsUrl(), meUrl()]) {
      await expectRefused(() => post(url, bearer(token)), 403, "accessDenied", { message: /group overage/ });
    }
  });

  it("group overage signalled by hasgroups (implicit flow)", async () => {
    const token = await userToken({ groups: undefined, claims: { hasgroups: true } });
    await expectRefused(() => post(teamsUrl(), bearer(token)), 403, "accessDenied", { message: /group overage/ });
  });
});

describe("tenant isolation on every route: another tenant's operation is a 404", () => {
  const opUrl = (id: string, team = TEAM) => `${teamsUrl(team)}/${encodeURIComponent(id)}`;
  const meOpUrl = (id: string) => `${meUrl()}/${encodeURIComponent(id)}`;
  const shared = `shared-job-${Date.now()}`;
  const onlyA = `only-a-${Date.now()}`;
  const missing = `never-created-${Date.now()}`;
  let tokenA: string;
  let tokenB: string;
  let userB: string;
  let storedA: () => Promise<Record<string, unknown>[]>;

  beforeAll(async () => {
    tokenA = await appToken();
    tokenB = await appToken({ tenant: TENANT_B });
    userB = await userToken({ tenant: TENANT_B });
    storedA = async () =>
      (await stack.documents()).filter(
        (d) => d.tenantId === TENANT_A && [shared, onlyA].includes(String(d.operationId)),
      );
  });

  it("create: both tenants create the same id in the same team; neither sees or blocks the other", async () => {
    const a = await call(teamsUrl(), {
      method: "POST",
      token: tokenA,
      body: { id: shared, operationType: "archiveTeam", targetResourceId: "tenant-a-secret" },
    });
    await expectCreated(a, TENANT_A);
    await expectCreated(
      await call(teamsUrl(), { method: "POST", token: tokenA, body: { id: onlyA, operationType: "createTeam" } }),
      TENANT_A,
    );
    const b = await call(teamsUrl(), {
      method: "POST",
      token: userB,
      body: { id: shared, operationType: "cloneTeam" },
    });
    const storedB = await expectCreated(b, TENANT_B);
    expect(b.json).toMatchObject({ id: shared, operationType: "cloneTeam", targetResourceId: null });
    expect(b.text).not.toContain("tenant-a-secret");
    expect(storedB.createdBy).toMatchObject({ kind: "user" });

    // A tenant's own duplicate is its own conflict; the other's document is untouched.
    const again = await call(teamsUrl(), {
      method: "POST",
      token: tokenB,
      body: { id: shared, operationType: "createTeam" },
    });
    expectGraphError(again, 409, "nameAlreadyExists");
    const stored = (await stack.documents()).filter((d) => d.operationId === shared);
    expect(stored.map((d) => [d.tenantId, d.operationType]).sort()).toEqual([
      [TENANT_A, "archiveTeam"],
      [TENANT_B, "cloneTeam"],
    ]);
  });

  it("read: 404 for the other tenant's id, the same answer as for an id nobody created", async () => {
    const nobody = expectGraphError(await call(opUrl(missing), { token: tokenB }), 404, "itemNotFound");
    for (const [url, token] of [
      [opUrl(onlyA), tokenB],
      [meOpUrl(onlyA), userB],
    ] as const) {
      const error = await expectRefused(() => call(url, { token }), 404, "itemNotFound", {
        message: /./,
        secrets: ["createTeam"],
      });
      expect(error.json.error.message).toBe(nobody.message);
    }
  });

  it("read: the same id gives each tenant its own operation", async () => {
    const a = await call(opUrl(shared), { token: tokenA });
    const b = await call(opUrl(shared), { token: tokenB });
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.json).toMatchObject({ operationType: "archiveTeam", targetResourceId: "tenant-a-secret" });
    expect(b.json).toMatchObject({ operationType: "cloneTeam", targetResourceId: null });
    expect(a.headers.get("etag")).not.toBe(b.headers.get("etag"));
  });

  async function listAll(url: string, token: string): Promise<string[]> {
    const ids: string[] = [];
    let next: string | undefined = url;
    while (next) {
      const res = await call(next, { token });
      expect(res.status, res.text).toBe(200);
      ids.push(...res.json.value.map((op: { id: string }) => op.id));
      next = res.json["@odata.nextLink"];
    }
    return ids;
  }

  it("list: every page holds only the caller's tenant's operations; $count agrees", async () => {
    const documents = await stack.documents();
    for (const [tenant, token] of [
      [TENANT_A, tokenA],
      [TENANT_B, tokenB],
    ] as const) {
      const own = documents.filter((d) => d.tenantId === tenant && d.teamId === TEAM).map((d) => String(d.operationId));
      const listed = await listAll(`${teamsUrl()}?$top=2`, token);
      expect(listed.sort()).toEqual(own.sort());
      const counted = await call(`${teamsUrl()}?$count=true&$top=1`, { token });
      expect(counted.json["@odata.count"]).toBe(own.length);
    }
    expect(await listAll(meUrl(), userB)).not.toContain(onlyA);
    const filtered = await call(`${teamsUrl()}?$filter=${encodeURIComponent("operationType eq 'createTeam'")}`, {
      token: tokenB,
    });
    expect(filtered.json.value.map((op: { id: string }) => op.id)).not.toContain(onlyA);
  });

  it("list: a $skiptoken issued to one tenant is refused to another", async () => {
    const page = await call(`${teamsUrl()}?$top=1`, { token: tokenA });
    const nextLink: string = page.json["@odata.nextLink"];
    expect(nextLink).toContain("$skiptoken=");
    const replayed = await call(nextLink, { token: tokenB });
    expect(replayed.status, replayed.text).toBe(400);
    expect(replayed.json.error.code).toBe("invalidRequest");
  });

  it("update: 404 for the other tenant's id (with or without If-Match: *); nothing changes", async () => {
    const before = await storedA();
    for (const headers of [{}, { "if-match": "*" }] as Record<string, string>[]) {
      await expectRefused(
        () => call(opUrl(onlyA), { method: "PATCH", token: tokenB, body: { status: "inProgress" }, headers }),
        404,
        "itemNotFound",
        { message: /./ },
      );
    }
    expect(await storedA()).toEqual(before);
  });

  it("update: the same id changes only the caller's tenant's operation", async () => {
    const before = await storedA();
    const res = await call(opUrl(shared), { method: "PATCH", token: tokenB, body: { status: "inProgress" } });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ operationType: "cloneTeam", status: "inProgress" });
    expect(await storedA()).toEqual(before);
  });

  it("delete: 404 for the other tenant's id (with or without If-Match: *); nothing is deleted", async () => {
    const before = await storedA();
    for (const headers of [{}, { "if-match": "*" }] as Record<string, string>[]) {
      await expectRefused(() => call(opUrl(onlyA), { method: "DELETE", token: tokenB, headers }), 404, "itemNotFound", {
        message: /./,
      });
    }
    await expectRefused(() => call(meOpUrl(onlyA), { method: "DELETE", token: userB }), 404, "itemNotFound", {
      message: /./,
    });
    expect(await storedA()).toEqual(before);
  });

  it("delete: the same id deletes only the caller's tenant's operation", async () => {
    const res = await call(opUrl(shared), { method: "DELETE", token: tokenB });
    expect(res.status, res.text).toBe(204);
    const left = (await stack.documents()).filter((d) => d.operationId === shared);
    // B's operation is gone (what is left of it is its tombstone, no operation); A's is untouched.
    expect(left.filter((d) => d.tombstone !== true).map((d) => d.tenantId)).toEqual([TENANT_A]);
    expect(left.filter((d) => d.tombstone === true).map((d) => d.tenantId)).toEqual([TENANT_B]);
    expect((await call(opUrl(shared), { token: tokenA })).status).toBe(200);
  });

  it("reads need a read permission, writes a write permission, on every route", async () => {
    const reader = await userToken({ scp: "TeamsAsyncOperation.Read" });
    expect(
      (await call(opUrl(onlyA), { token: await appToken({ roles: ["TeamsAsyncOperation.Read.All"] }) })).status,
    ).toBe(200);
    expect((await call(teamsUrl(), { token: reader })).status).toBe(200);
    for (const method of ["PATCH", "DELETE"]) {
      await expectRefused(
        () =>
          call(opUrl(onlyA), { method, token: reader, body: method === "PATCH" ? { attemptsCount: 1 } : undefined }),
        403,
        "accessDenied",
        { message: /delegated permission TeamsAsyncOperation\.ReadWrite \(scp\)/ },
      );
    }
    const outsider = await userToken({ groups: [OTHER_TEAM] });
    for (const method of ["GET", "PATCH", "DELETE"]) {
      await expectRefused(
        () =>
          call(opUrl(onlyA), { method, token: outsider, body: method === "PATCH" ? { attemptsCount: 1 } : undefined }),
        403,
        "accessDenied",
        { message: /not a member of this team/ },
      );
    }
    await expectRefused(() => call(meUrl(), { token: tokenA }), 403, "accessDenied", { message: /\/me routes/ });
  });
});

describe("signing key rotation through the remote key set", () => {
  let k2: SigningKey;
  let k3: SigningKey;

  it("a new kid is picked up at once (refetch on an unknown kid)", async () => {
    k2 = await createSigningKey();
    jwks.publish([k1, k2]);
    await sleep(COOLDOWN_MS + 100);
    const fetches = jwks.fetches;
    await expectCreated(await post(teamsUrl(), bearer(await appToken({}, k2))), TENANT_A);
    expect(jwks.fetches).toBeGreaterThan(fetches);
  });

  it("a withdrawn key stops working at the refetch the next new kid triggers", async () => {
    k3 = await createSigningKey();
    jwks.publish([k2, k3]);
    await sleep(COOLDOWN_MS + 100);
    await expectCreated(await post(teamsUrl(), bearer(await appToken({}, k3))), TENANT_A);
    const withdrawn = await appToken({}, k1);
    await expectRefused(() => post(teamsUrl(), bearer(withdrawn)), 401, "InvalidAuthenticationToken", {
      message: /unknown key/,
    });
  });

  it("unknown kids refetch at most once per cooldown", async () => {
    const fetches = jwks.fetches;
    const strangers = await Promise.all([1, 2, 3].map(() => createSigningKey()));
    for (const key of strangers) {
      const res = await post(teamsUrl(), bearer(await appToken({}, key)));
      expectGraphError(res, 401, "InvalidAuthenticationToken");
    }
    expect(jwks.fetches - fetches).toBeLessThanOrEqual(1);
  });

  it("a withdrawn key stops working once the cache expires, with no new kid", async () => {
    jwks.publish([k3]);
    await sleep(CACHE_MS + 200);
    const withdrawn = await appToken({}, k2);
    await expectRefused(() => post(teamsUrl(), bearer(withdrawn)), 401, "InvalidAuthenticationToken", {
      message: /unknown key/,
    });
    await expectCreated(await post(teamsUrl(), bearer(await appToken({}, k3))), TENANT_A);
  });

  it("an unreachable key service is a 503 with Retry-After, then recovers", async () => {
    const k4 = await createSigningKey();
    jwks.failWith(500);
    await sleep(COOLDOWN_MS + 100);
    const token = await appToken({}, k4);
    const res = await expectRefused(() => post(teamsUrl(), bearer(token)), 503, "serviceNotAvailable", {
      message: /signing keys are unavailable/,
    });
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    jwks.failWith(undefined);
    jwks.publish([k3, k4]);
    await sleep(COOLDOWN_MS + 100);
    await expectCreated(await post(teamsUrl(), bearer(token)), TENANT_A);
  });
});

describe("logs", () => {
  it("the runner logged requests but no token or claim value", async () => {
    await sleep(200);
    const log = stack.output();
    expect(log).toMatch(/POST \/v1\.0\/teams\//);
    for (const token of sent) {
      for (const part of token.split(".").filter((p) => p.length > 20)) expect(log).not.toContain(part);
    }
    for (const value of [TENANT_OUTSIDE, "evil.example", "api://someone-else", "hunter2", "master-key-guess"]) {
      expect(log).not.toContain(value);
    }
  });
});
