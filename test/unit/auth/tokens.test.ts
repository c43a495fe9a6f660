/**
 * The token layer without HTTP: the Authorization header, what a header without a usable token held, and RFC 6750's
 * challenge.
 */
import { describe, expect, it } from "vitest";
import {
  authorizationUri,
  bearerToken,
  issuersFor,
  MAX_TOKEN_LENGTH,
  parseAuthorization,
  unauthenticated,
} from "../../../shared/auth/tokens.js";
import { refusal } from "../../support/refusal.js";

const TID = "aaaaaaaa-0000-4000-8000-00000000000a";
const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0.c2lnbmF0dXJl";

describe("the Authorization header", () => {
  it.each([
    [`Bearer ${JWT}`, { token: JWT }],
    [`bearer ${JWT}`, { token: JWT }],
    [`BEARER ${JWT}  `, { token: JWT }],
    [null, { problem: "missing" }],
    ["", { problem: "missing" }],
    ["   ", { problem: "missing" }],
    ["Basic dXNlcjpwYXNz", { problem: "otherScheme" }],
    [`PoP ${JWT}`, { problem: "otherScheme" }],
    [JWT, { problem: "otherScheme" }],
    ["Bearer", { problem: "noToken" }],
    ["Bearer   ", { problem: "noToken" }],
    [`Bearer  ${JWT}`, { problem: "malformed" }],
    [`Bearer ${JWT}, Bearer ${JWT}`, { problem: "severalWords" }],
    [`Bearer ${JWT} ${JWT}`, { problem: "severalWords" }],
    [`Bearer \n> team-operations-api@0.1.0 token\n> node dist/local/token.js\n\n${JWT}`, { problem: "severalWords" }],
    [`Bearer ${JWT},`, { problem: "malformed" }],
    [`Bearer "${JWT}"`, { problem: "malformed" }],
    ["Bearer a\u00e9b", { problem: "malformed" }],
    [`Bearer ${"a".repeat(MAX_TOKEN_LENGTH + 1)}`, { problem: "tooLarge" }],
  ])("%j", (header, expected) => {
    expect(parseAuthorization(header)).toEqual(expected);
  });

  it("throws a 401 that carries an error code only when a bearer token was offered (RFC 6750 3.1)", () => {
    expect(refusal(() => bearerToken(null)).headers["WWW-Authenticate"]).not.toMatch(/error=/);
    expect(refusal(() => bearerToken("Basic x")).headers["WWW-Authenticate"]).not.toMatch(/error=/);
    const malformed = refusal(() => bearerToken(`Bearer "${JWT}"`));
    expect(malformed.status).toBe(401);
    expect(malformed.code).toBe("InvalidAuthenticationToken");
    expect(malformed.headers["WWW-Authenticate"]).toMatch(/error="invalid_token", error_description="[^"]+"$/);
  });
});

describe("what a header without a usable token held, and the usual cause", () => {
  it("'Bearer' alone: an empty token variable; with the development key, how to get one", () => {
    const deployed = refusal(() => bearerToken("Bearer"));
    expect(deployed.message).toMatch(/^The Authorization header is 'Bearer' with no token after it\. The usual cause/);
    expect(deployed.message).not.toContain("For this local server");
    const local = refusal(() => bearerToken("Bearer", undefined, true));
    expect(local.message).toContain("For this local server: TOKEN=$(npm run --silent token) in the project folder.");
    expect(local.headers["WWW-Authenticate"]).toContain(`error_description="${local.message}"`);
  });

  it("npm's banner joined to the token on one line (as a shell that joins lines sends it): counted, never echoed", () => {
    const header = `Bearer  > team-operations-api@0.1.0 token > node dist/local/token.js  ${JWT}`;
    const error = refusal(() => bearerToken(header));
    expect(error.message).toBe(
      "The Authorization header holds 7 words after 'Bearer', some of them '>', where exactly one token belongs. " +
        "The usual cause: npm's script banner captured with the token (npm run token without --silent).",
    );
    expect(error.message).not.toContain(JWT);
  });

  it("two tokens: counted, with another cause", () => {
    expect(refusal(() => bearerToken(`Bearer ${JWT} ${JWT}`)).message).toBe(
      "The Authorization header holds 2 words after 'Bearer', where exactly one token belongs. " +
        "The usual cause: text captured with the token, or two tokens in one header.",
    );
  });
});

describe("the 401 challenge", () => {
  it("follows RFC 6750 and names where to get a token", () => {
    const error = unauthenticated("The access token has expired.");
    expect(error.headers["WWW-Authenticate"]).toBe(
      'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/v2.0/authorize", error="invalid_token", error_description="The access token has expired."',
    );
    expect(error.message).toBe("The access token has expired.");
    expect(unauthenticated().message).toBe("Access token is empty.");
  });

  it("points at the one tenant's authority when only one is allowed", () => {
    expect(authorizationUri([TID])).toBe(`https://login.microsoftonline.com/${TID}/oauth2/v2.0/authorize`);
    expect(authorizationUri([TID, TID.replace("a", "b")])).toContain("/common/");
    expect(authorizationUri("*")).toContain("/common/");
  });

  it("accepts Entra ID's v1.0 and v2.0 issuers of the token's own tenant only", () => {
    expect(issuersFor(TID)).toEqual([
      `https://login.microsoftonline.com/${TID}/v2.0`,
      `https://sts.windows.net/${TID}/`,
    ]);
  });
});
