import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../shared/config.js";
import {
  keyVersionsInUse,
  PUBLISH_AHEAD_MS,
  RETIRED_KEY_PUBLISHED_MS,
  VALIDATION_TOKEN_LIFETIME_MS,
  KEY_REFRESH_MS,
  type KeyVersion,
} from "../../../shared/subscriptions/signingKeys.js";
import { publisherIdOf } from "../../../shared/subscriptions/validationTokens.js";

const NOW = Date.parse("2026-06-01T12:00:00Z");
const version = (name: string, minutesAgo: number, more: Partial<KeyVersion> = {}): KeyVersion => ({
  version: name,
  enabled: true,
  createdOn: new Date(NOW - minutesAgo * 60_000),
  ...more,
});
const minutes = (ms: number) => ms / 60_000;

describe("which key versions sign and are published", () => {
  it("a single version signs from its creation (nothing else could)", () => {
    expect(keyVersionsInUse([version("a", 0)], NOW)).toEqual({ signing: "a", published: ["a"] });
  });

  it("a new version is published ahead and signs only once every cache can know it", () => {
    const old = version("old", 10_000);
    const justMade = version("new", minutes(PUBLISH_AHEAD_MS) - 1);
    expect(keyVersionsInUse([justMade, old], NOW)).toEqual({ signing: "old", published: ["old", "new"] });
    const ready = version("new", minutes(PUBLISH_AHEAD_MS));
    expect(keyVersionsInUse([old, ready], NOW)).toEqual({ signing: "new", published: ["old", "new"] });
  });

  it("a replaced version stays published while tokens it signed may live, then goes", () => {
    // Tokens signed by an instance that has not yet read the new version, for their whole lifetime.
    expect(RETIRED_KEY_PUBLISHED_MS).toBeGreaterThanOrEqual(KEY_REFRESH_MS + VALIDATION_TOKEN_LIFETIME_MS);
    const replacedAgo = (ms: number) => minutes(PUBLISH_AHEAD_MS + ms);
    const kept = keyVersionsInUse(
      [version("old", 10_000), version("new", replacedAgo(RETIRED_KEY_PUBLISHED_MS) - 1)],
      NOW,
    );
    expect(kept?.published).toEqual(["old", "new"]);
    const gone = keyVersionsInUse([version("old", 10_000), version("new", replacedAgo(RETIRED_KEY_PUBLISHED_MS))], NOW);
    expect(gone).toEqual({ signing: "new", published: ["new"] });
  });

  it("a disabled, expired or not yet valid version neither signs nor is published", () => {
    const versions = [
      version("disabled", 100, { enabled: false }),
      version("expired", 90, { expiresOn: new Date(NOW) }),
      version("early", 80, { notBefore: new Date(NOW + 1) }),
      version("good", 10_000),
    ];
    expect(keyVersionsInUse(versions, NOW)).toEqual({ signing: "good", published: ["good"] });
    expect(keyVersionsInUse([version("disabled", 100, { enabled: false })], NOW)).toBeUndefined();
  });
});

describe("the publisher id (appid)", () => {
  it("is the API's client id among its audiences, given bare or in its App ID URI", () => {
    const id = "4a5b6c7d-0000-4000-8000-00000000abcd";
    expect(publisherIdOf(["api://team-operations", id])).toBe(id);
    expect(publisherIdOf([`api://${id.toUpperCase()}`])).toBe(id);
    expect(publisherIdOf(["api://team-operations-local"])).toBe("api://team-operations-local");
  });
});

describe("the signing configuration", () => {
  const complete = {
    COSMOS_ENDPOINT: "https://acct.documents.azure.com:443/",
    AUTH_AUDIENCES: "api://team-operations",
    AUTH_TENANTS: "*",
    AZURE_CLIENT_ID: "6a0e4c9d-1111-4222-8333-944455556666",
  };
  const keyFile = () => {
    const dir = mkdtempSync(join(tmpdir(), "teamops-signing-"));
    const file = join(dir, "key.json");
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(file, JSON.stringify(privateKey.export({ format: "jwk" })));
    return file;
  };

  it("is a Key Vault key used through the managed identity, or nothing (resource data refused)", () => {
    expect(loadConfig(complete).notificationSigning).toBeUndefined();
    expect(
      loadConfig({
        ...complete,
        NOTIFICATION_SIGNING_KEY_ID: "https://kv-x.vault.azure.net/keys/notification-signing/",
      }).notificationSigning,
    ).toEqual({
      kind: "keyVault",
      keyId: "https://kv-x.vault.azure.net/keys/notification-signing",
      managedIdentityClientId: complete.AZURE_CLIENT_ID,
    });
  });

  it("takes a development key file only off Azure, and only one that holds a private RSA key", () => {
    const file = keyFile();
    expect(loadConfig({ ...complete, NOTIFICATION_SIGNING_KEY_FILE: file }).notificationSigning).toEqual({
      kind: "file",
      file,
    });
    expect(() => loadConfig({ ...complete, NOTIFICATION_SIGNING_KEY_FILE: file, WEBSITE_SITE_NAME: "app" })).toThrow(
      /refused in Azure/,
    );
    const publicOnly = join(dirname(file), "public.json");
    writeFileSync(publicOnly, JSON.stringify({ kty: "RSA", n: "x", e: "AQAB" }));
    expect(() => loadConfig({ ...complete, NOTIFICATION_SIGNING_KEY_FILE: publicOnly })).toThrow(/not a private RSA/);
  });

  it.each([
    ["https://kv-x.vault.azure.net/keys/notification-signing/0123456789abcdef", /without a version/],
    ["http://kv-x.vault.azure.net/keys/notification-signing", /without a version/],
    ["https://kv-x.vault.azure.net/secrets/notification-signing", /without a version/],
  ])("refuses %s as a key id", (keyId, message) => {
    expect(() => loadConfig({ ...complete, NOTIFICATION_SIGNING_KEY_ID: keyId })).toThrow(message);
  });

  it("refuses both at once", () => {
    expect(() =>
      loadConfig({
        ...complete,
        NOTIFICATION_SIGNING_KEY_ID: "https://kv-x.vault.azure.net/keys/k",
        NOTIFICATION_SIGNING_KEY_FILE: keyFile(),
      }),
    ).toThrow(/not both/);
  });
});
