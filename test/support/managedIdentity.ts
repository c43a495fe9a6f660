/**
 * A managed identity endpoint on loopback, speaking the App Service protocol
 * that Azure Functions (Flex Consumption included) gives an app: the app finds
 * it through IDENTITY_ENDPOINT and IDENTITY_HEADER, and asks
 * `GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=<resource>&client_id=<id>`
 * with the header `X-IDENTITY-HEADER: <IDENTITY_HEADER>`. It issues an opaque
 * token per request and remembers for which resource and client id, so a test
 * can check that what reached a service is a token issued for that service.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface IssuedToken {
  readonly token: string;
  readonly resource: string;
  readonly clientId: string | undefined;
}

export interface ManagedIdentityEndpoint {
  /** IDENTITY_ENDPOINT and IDENTITY_HEADER, as the platform sets them. */
  readonly env: { IDENTITY_ENDPOINT: string; IDENTITY_HEADER: string };
  readonly issued: IssuedToken[];
  /** Requests refused for a missing or wrong X-IDENTITY-HEADER, or an unsupported api-version. */
  readonly refused: string[];
  /** What was issued for this token, if anything. */
  issuedFor(token: string): IssuedToken | undefined;
  close(): Promise<void>;
}

export async function startManagedIdentityEndpoint(): Promise<ManagedIdentityEndpoint> {
  const secret = randomUUID();
  const issued: IssuedToken[] = [];
  const refused: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const resource = url.searchParams.get("resource");
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.headers["x-identity-header"] !== secret || url.searchParams.get("api-version") !== "2019-08-01") {
      refused.push(req.url ?? "");
      answer(400, { statusCode: 400, message: "Missing or wrong X-IDENTITY-HEADER, or unsupported api-version." });
      return;
    }
    if (!resource) {
      answer(400, { statusCode: 400, message: "resource is required." });
      return;
    }
    const clientId = url.searchParams.get("client_id") ?? undefined;
    const token = `mi.${randomBytes(24).toString("base64url")}`;
    issued.push({ token, resource, clientId });
    answer(200, {
      access_token: token,
      expires_on: String(Math.floor(Date.now() / 1000) + 3600),
      resource,
      token_type: "Bearer",
      client_id: clientId ?? "system-assigned",
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    env: { IDENTITY_ENDPOINT: `http://127.0.0.1:${port}/msi/token`, IDENTITY_HEADER: secret },
    issued,
    refused,
    issuedFor: (token) => issued.find((t) => t.token === token),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
