/**
 * The Entra ID credentials the app presents to Azure services (Cosmos DB,
 * Application Insights ingestion). In Azure that is the app's user-assigned
 * managed identity, and only it: a `ManagedIdentityCredential` for the client
 * id the deployment sets, not a chain that probes environment variables, the
 * Azure CLI or a developer's sign-in first. A developer pointed at a real
 * account opts in to `DefaultAzureCredential` (COSMOS_CREDENTIAL=developer).
 *
 * `@azure/identity` is imported on first use: it is large, and a run with an
 * account key (the local store) never needs it.
 */
import type { TokenCredential } from "@azure/identity";
import { GUID } from "./ids.js";

const managedIdentities = new Map<string, Promise<TokenCredential>>();

/**
 * The managed identity with this client id (a user-assigned identity), or the system-assigned one without; one
 * credential per identity and process, so its token cache is shared by every caller.
 */
export function managedIdentityCredential(clientId: string | undefined): Promise<TokenCredential> {
  const key = clientId ?? "";
  let credential = managedIdentities.get(key);
  if (!credential) {
    credential = import("@azure/identity").then(({ ManagedIdentityCredential }) =>
      clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential(),
    );
    managedIdentities.set(key, credential);
  }
  return credential;
}

/** A developer's own sign-in (Azure CLI, azd, Visual Studio Code, environment), for local runs against Azure. */
export async function developerCredential(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import("@azure/identity");
  return new DefaultAzureCredential();
}

/** What APPLICATIONINSIGHTS_AUTHENTICATION_STRING asks for: Entra ID ingestion, with an identity or without. */
export type IngestionAuthentication = { readonly aad: false } | { readonly aad: true; readonly clientId?: string };

/**
 * Parses the authentication string Azure documents for Application Insights (`Authorization=AAD` and, for a
 * user-assigned identity, `ClientId=<guid>`; keys are case-insensitive, pairs separated by `;`). Anything else is
 * refused rather than ignored: an app that silently sends unauthenticated telemetry to a resource with local auth off
 * loses all of it.
 */
export function parseIngestionAuthentication(value: string | undefined): IngestionAuthentication {
  if (value === undefined || value.trim() === "") return { aad: false };
  const pairs = new Map<string, string>();
  for (const part of value.split(";")) {
    if (part.trim() === "") continue;
    const at = part.indexOf("=");
    if (at <= 0) throw new Error(`APPLICATIONINSIGHTS_AUTHENTICATION_STRING has "${part}", not key=value.`);
    pairs.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  const unknown = [...pairs.keys()].filter((key) => key !== "authorization" && key !== "clientid");
  if (unknown.length > 0) {
    throw new Error(`APPLICATIONINSIGHTS_AUTHENTICATION_STRING has unknown keys: ${unknown.join(", ")}.`);
  }
  if (pairs.get("authorization")?.toUpperCase() !== "AAD") {
    throw new Error("APPLICATIONINSIGHTS_AUTHENTICATION_STRING must say Authorization=AAD.");
  }
  const clientId = pairs.get("clientid");
  if (clientId !== undefined && !GUID.test(clientId)) {
    throw new Error(`APPLICATIONINSIGHTS_AUTHENTICATION_STRING's ClientId must be a GUID, not "${clientId}".`);
  }
  return clientId ? { aad: true, clientId } : { aad: true };
}
