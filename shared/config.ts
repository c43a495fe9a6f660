/**
 * Every setting the app reads, in one catalogue. The Bicep template, the
 * sample settings file and the README are checked against this list by tests,
 * so none of them can drift from what the code actually reads.
 */
import { readFileSync } from "node:fs";
import { distance } from "fastest-levenshtein";
import { GUID } from "./ids.js";

export interface SettingSpec {
  readonly name: string;
  readonly description: string;
  /** Value used when the setting is absent (undefined: no default). */
  readonly default?: string;
  /** Only meaningful on a developer machine; never set by the deployment. */
  readonly localOnly?: boolean;
  /** Read by the Functions host or a binding, not by our code directly. */
  readonly host?: boolean;
}

/** Where the app's data is unless COSMOS_DATABASE and the container settings say otherwise. */
export const COSMOS_DEFAULTS = {
  database: "teamops",
  container: "operations",
  subscriptionsContainer: "subscriptions",
} as const;

export const SETTINGS: readonly SettingSpec[] = [
  { name: "COSMOS_ENDPOINT", description: "Cosmos DB account endpoint (https://<account>.documents.azure.com:443/)." },
  { name: "COSMOS_DATABASE", description: "Cosmos DB database name.", default: COSMOS_DEFAULTS.database },
  {
    name: "COSMOS_CONTAINER",
    description: "Cosmos DB container of operations (partition key /teamId).",
    default: COSMOS_DEFAULTS.container,
  },
  {
    name: "COSMOS_KEY",
    description: "Account key, only for the local embedded store or the emulator. Absent: managed identity (Entra ID).",
    localOnly: true,
  },
  {
    name: "COSMOS_CREDENTIAL",
    description:
      "How the app authenticates to Cosmos DB when COSMOS_KEY is unset: managedidentity (ManagedIdentityCredential with AZURE_CLIENT_ID), or developer (DefaultAzureCredential: your Azure CLI, azd or editor sign-in, for a local run against a real account; refused in Azure).",
    default: "managedidentity",
    localOnly: true,
  },
  {
    name: "AZURE_CLIENT_ID",
    description:
      "Client id of the user-assigned managed identity used for Cosmos DB, Storage and Application Insights ingestion.",
  },
  {
    name: "AUTH_AUDIENCES",
    description: "Comma-separated token audiences accepted: the API's client id and/or App ID URI.",
  },
  {
    name: "AUTH_TENANTS",
    description:
      "Comma-separated tenant ids whose tokens are accepted, or * for any tenant (each tenant sees only its own operations).",
  },
  {
    name: "AUTH_JWKS_URI",
    description: "Where token signing keys are published.",
    default: "https://login.microsoftonline.com/common/discovery/v2.0/keys",
  },
  {
    name: "AUTH_JWKS_FILE",
    description:
      "Path to a JWKS file with the local development signing key; used instead of AUTH_JWKS_URI on a developer machine.",
    localOnly: true,
  },
  {
    name: "AUTH_JWKS_CACHE_SECONDS",
    description:
      "Seconds the signing keys from AUTH_JWKS_URI are cached before they are fetched again; a key withdrawn from the key set stops being accepted within this time (or at the next refetch an unknown key id triggers).",
    default: "3600",
  },
  {
    name: "AUTH_JWKS_COOLDOWN_SECONDS",
    description:
      "Seconds to wait after a fetch of the signing keys before a token with an unknown key id may trigger another fetch.",
    default: "30",
  },
  {
    name: "PUBLIC_BASE_URL",
    description:
      "Public base URL (scheme and host) used in Location and @odata.context behind a proxy; default: the request's own.",
    default: "",
  },
  { name: "OPERATION_TTL_DAYS", description: "Days a finished operation is kept before it expires.", default: "30" },
  { name: "RETRY_AFTER_SECONDS", description: "Retry-After sent while an operation has not finished.", default: "5" },
  {
    name: "APPLICATIONINSIGHTS_CONNECTION_STRING",
    description: "Application Insights connection string; absent: no telemetry.",
  },
  {
    name: "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    description:
      "Entra ID authentication for telemetry ingestion: ClientId=<managed identity client id>;Authorization=AAD.",
  },
  {
    name: "OPERATIONS_INBOX_QUEUE",
    description: "Queue of create/update messages from event-driven callers; its poison queue is <name>-poison.",
    default: "operations-inbox",
  },
  {
    name: "OPERATION_EVENTS_QUEUE",
    description: "Queue that receives one CloudEvents 1.0 message when an operation succeeds or fails.",
    default: "operation-events",
  },
  {
    name: "SWEEPER_SCHEDULE",
    description: "NCRONTAB schedule of the stuck-operation sweeper (six fields, seconds first).",
    default: "0 */5 * * * *",
  },
  {
    name: "SWEEPER_DEADLINE_MINUTES",
    description:
      "Minutes without action after which a notStarted or inProgress operation is failed (operationTimedOut).",
    default: "60",
  },
  {
    name: "SWEEPER_BATCH_SIZE",
    description: "Operations the sweeper reads per page; it stops after 10 pages a run and continues on the next.",
    default: "100",
  },
  {
    name: "COSMOS_SUBSCRIPTIONS_CONTAINER",
    description: "Cosmos DB container of change-notification subscriptions (partition key /resourceKey, TTL on).",
    default: COSMOS_DEFAULTS.subscriptionsContainer,
  },
  {
    name: "SUBSCRIPTION_DELIVERY_QUEUE",
    description: "Queue of notification batches waiting for a retry; its poison queue is <name>-poison.",
    default: "subscription-deliveries",
  },
  {
    name: "SUBSCRIPTION_MAX_LIFETIME_MINUTES",
    description: "Longest a subscription may live before it must be renewed (Graph states one per resource).",
    default: "4230",
  },
  { name: "SUBSCRIPTIONS_PER_TENANT", description: "Most subscriptions one tenant may hold at once.", default: "100" },
  {
    name: "SUBSCRIPTION_VALIDATION_TIMEOUT_SECONDS",
    description: "Seconds a notification URL has to answer the validation handshake (Graph: 10).",
    default: "10",
  },
  {
    name: "SUBSCRIPTION_DELIVERY_TIMEOUT_SECONDS",
    description: "Seconds a receiver has to acknowledge a notification batch with a 2xx.",
    default: "5",
  },
  {
    name: "SUBSCRIPTION_RETRY_SCHEDULE_SECONDS",
    description:
      "Comma-separated delays before each retry of an unacknowledged batch; after the last, it is dropped with a missed lifecycle notification.",
    default: "10,60,300,900,1800,3600",
  },
  {
    name: "SUBSCRIPTION_LIFECYCLE_SCHEDULE",
    description:
      "NCRONTAB schedule of the subscription lifecycle run (reauthorizationRequired before expiry, subscriptionRemoved for tenants no longer accepted); every 15 minutes, well inside the reauthorization notice, so an idle app does not start an instance every minute.",
    default: "0 */15 * * * *",
  },
  {
    name: "SUBSCRIPTION_REAUTHORIZATION_NOTICE_MINUTES",
    description:
      "Minutes before its expiration a subscription with a lifecycleNotificationUrl is sent reauthorizationRequired.",
    default: "60",
  },
  {
    name: "SUBSCRIPTION_ALLOW_LOOPBACK",
    description:
      "true: notification URLs may be plain http to 127.0.0.0/8, ::1 or localhost, to try and test receivers locally. Refused in Azure.",
    default: "false",
    localOnly: true,
  },
  {
    name: "NOTIFICATION_SIGNING_KEY_ID",
    description:
      "Key Vault key that signs the validation tokens of notifications with resource data (https://<vault>.vault.azure.net/keys/<name>, no version: the current version signs, earlier ones stay published while their tokens live), used through the managed identity. Unset: subscriptions with resource data are refused.",
  },
  {
    name: "NOTIFICATION_SIGNING_KEY_FILE",
    description:
      "Path to a JSON Web Key (RSA, private) that signs validation tokens on a developer machine, instead of NOTIFICATION_SIGNING_KEY_ID. Refused in Azure.",
    localOnly: true,
  },
  {
    name: "FUNCTIONS_REQUEST_BODY_SIZE_LIMIT",
    description:
      "The Functions host's request body limit in bytes (65536: a JSON batch's limit, twice a single request's), refused before the body is read.",
    host: true,
  },
  {
    name: "COSMOS__accountEndpoint",
    description: "Cosmos DB endpoint for the change-feed trigger's connection (COSMOS).",
    host: true,
  },
  { name: "COSMOS__credential", description: "managedidentity: the change-feed trigger uses Entra ID.", host: true },
  { name: "COSMOS__clientId", description: "Client id of the identity for the change-feed trigger.", host: true },
  {
    name: "AzureWebJobsStorage__credential",
    description: "managedidentity: the host storage connection uses Entra ID.",
    host: true,
  },
  { name: "AzureWebJobsStorage__clientId", description: "Client id of the identity for host storage.", host: true },
  {
    name: "AzureWebJobsStorage__blobServiceUri",
    description: "Blob endpoint of the host storage account.",
    host: true,
  },
  {
    name: "AzureWebJobsStorage__queueServiceUri",
    description: "Queue endpoint of the host storage account.",
    host: true,
  },
];

/**
 * Names given that look like a known setting misspelt: not known, but starting with the first word of a known one
 * and within two edits of it (one for short names), as LOCAL_PERSISTANCE is of LOCAL_PERSISTENCE. Such a setting would
 * otherwise be ignored without a word; this says which it was probably meant to be.
 *
 * `settings`: the names to suggest; `alsoKnown`: names that are settings too, but someone else's to check.
 */
export function misspeltSettings(
  given: Iterable<string>,
  settings: readonly string[],
  alsoKnown: readonly string[] = [],
): string[] {
  const known = new Set([...settings, ...alsoKnown]);
  const firstWord = (name: string) => name.split("_")[0]!.toUpperCase();
  const warnings: string[] = [];
  for (const name of given) {
    if (known.has(name)) continue;
    const meant = settings.find(
      (setting) =>
        name.toUpperCase().startsWith(firstWord(setting)) &&
        distance(setting.toUpperCase(), name.toUpperCase()) <= (setting.length >= 8 ? 2 : 1),
    );
    if (meant) warnings.push(`${name} is not a setting (it is ignored): did you mean ${meant}?`);
  }
  return warnings;
}

export interface AppConfig {
  readonly cosmos: {
    readonly endpoint: string;
    readonly database: string;
    readonly container: string;
    readonly key: string | undefined;
    readonly managedIdentityClientId: string | undefined;
    /** Without a key: the app's managed identity, or (opt-in, local only) a developer's own sign-in. */
    readonly credential: "managedidentity" | "developer";
  };
  readonly auth: {
    readonly audiences: readonly string[];
    /** `"*"` accepts any tenant; otherwise the allow-list. */
    readonly tenants: readonly string[] | "*";
    readonly jwksUri: string;
    readonly jwksFile: string | undefined;
    /** How long fetched signing keys are trusted before they are fetched again. */
    readonly jwksCacheSeconds: number;
    /** Minimum time between two fetches that unknown key ids trigger. */
    readonly jwksCooldownSeconds: number;
  };
  readonly publicBaseUrl: string | undefined;
  readonly operationTtlSeconds: number;
  readonly retryAfterSeconds: number;
  readonly sweeper: { readonly deadlineMinutes: number; readonly batchSize: number };
  /** The queue of create/update messages (its name is also the trigger's binding expression). */
  readonly inboxQueue: string;
  /** The queue completion events are written to. */
  readonly eventsQueue: string;
  readonly subscriptions: {
    readonly container: string;
    readonly deliveryQueue: string;
    readonly maxLifetimeMinutes: number;
    readonly perTenant: number;
    readonly validationTimeoutMs: number;
    readonly deliveryTimeoutMs: number;
    /** Seconds before each retry; its length bounds how long a batch is retried. */
    readonly retryScheduleSeconds: readonly number[];
    /** How long before its expiration a subscription is sent reauthorizationRequired. */
    readonly reauthorizationNoticeMinutes: number;
    readonly allowLoopback: boolean;
  };
  /** Where the validation tokens of notifications with resource data are signed; undefined: nowhere (refused). */
  readonly notificationSigning: NotificationSigningConfig | undefined;
}

/** A Key Vault key (its versionless id), or on a developer machine a JSON Web Key file. */
export type NotificationSigningConfig =
  | { readonly kind: "keyVault"; readonly keyId: string; readonly managedIdentityClientId: string | undefined }
  | { readonly kind: "file"; readonly file: string };

export class ConfigurationError extends Error {
  constructor(message: string) {
    super(`Configuration error: ${message}`);
    this.name = "ConfigurationError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function setting(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  if (value) return value;
  return SETTINGS.find((s) => s.name === name)?.default || undefined;
}

function required(env: Env, name: string): string {
  const value = setting(env, name);
  if (!value) throw new ConfigurationError(`${name} is required (see local.settings.sample.json).`);
  return value;
}

function positiveInteger(env: Env, name: string): number {
  const raw = required(env, name);
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigurationError(`${name} must be a positive whole number, not "${raw}".`);
  }
  return value;
}

function list(raw: string): string[] {
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A JWKS file that cannot be read would fail every request; refuse it at start-up instead. */
function checkJwksFile(file: string): void {
  let keys: unknown;
  try {
    keys = (JSON.parse(readFileSync(file, "utf8")) as { keys?: unknown }).keys;
  } catch {
    throw new ConfigurationError(`AUTH_JWKS_FILE (${file}) cannot be read as a JSON Web Key Set.`);
  }
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new ConfigurationError(`AUTH_JWKS_FILE (${file}) holds no keys.`);
  }
}

/** A signing key file that cannot be read would fail every delivery with resource data; refuse it at start-up. */
function checkSigningKeyFile(file: string): void {
  let key: { kty?: unknown; d?: unknown };
  try {
    key = JSON.parse(readFileSync(file, "utf8")) as typeof key;
  } catch {
    throw new ConfigurationError(`NOTIFICATION_SIGNING_KEY_FILE (${file}) cannot be read as a JSON Web Key.`);
  }
  if (key.kty !== "RSA" || typeof key.d !== "string") {
    throw new ConfigurationError(`NOTIFICATION_SIGNING_KEY_FILE (${file}) is not a private RSA JSON Web Key.`);
  }
}

/** A versionless Key Vault key identifier: the vault's https URL, `/keys/`, the key's name. */
const KEY_VAULT_KEY_ID = /^https:\/\/[^/?#]+\/keys\/[0-9A-Za-z-]{1,127}$/;

function notificationSigning(env: Env): NotificationSigningConfig | undefined {
  const keyId = setting(env, "NOTIFICATION_SIGNING_KEY_ID");
  const file = setting(env, "NOTIFICATION_SIGNING_KEY_FILE");
  if (keyId && file) {
    throw new ConfigurationError("Set NOTIFICATION_SIGNING_KEY_ID or NOTIFICATION_SIGNING_KEY_FILE, not both.");
  }
  if (file && env.WEBSITE_SITE_NAME) {
    throw new ConfigurationError(
      "NOTIFICATION_SIGNING_KEY_FILE is for local development only and is refused in Azure.",
    );
  }
  if (file) {
    checkSigningKeyFile(file);
    return { kind: "file", file };
  }
  if (!keyId) return undefined;
  if (!KEY_VAULT_KEY_ID.test(keyId.replace(/\/$/, ""))) {
    throw new ConfigurationError(
      `NOTIFICATION_SIGNING_KEY_ID must be a Key Vault key id without a version, like https://<vault>.vault.azure.net/keys/<name>, not "${keyId}".`,
    );
  }
  return {
    kind: "keyVault",
    keyId: keyId.replace(/\/$/, ""),
    managedIdentityClientId: setting(env, "AZURE_CLIENT_ID"),
  };
}

/** Reads and checks the configuration; refuses an incomplete or contradictory one rather than run open. */
export function loadConfig(env: Env = process.env): AppConfig {
  const tenantsRaw = required(env, "AUTH_TENANTS");
  let tenants: readonly string[] | "*";
  if (tenantsRaw === "*") {
    tenants = "*";
  } else {
    tenants = list(tenantsRaw).map((t) => t.toLowerCase());
    const bad = tenants.filter((t) => !GUID.test(t));
    if (bad.length > 0 || tenants.length === 0) {
      throw new ConfigurationError(`AUTH_TENANTS must be * or a comma-separated list of tenant GUIDs.`);
    }
  }
  const audiences = list(required(env, "AUTH_AUDIENCES"));
  if (audiences.length === 0) throw new ConfigurationError("AUTH_AUDIENCES must name at least one audience.");
  if (audiences.some((a) => a === "*" || /\s/.test(a))) {
    throw new ConfigurationError(
      "AUTH_AUDIENCES must list the API's own client id and/or App ID URI; wildcards and spaces are refused.",
    );
  }

  const jwksFile = setting(env, "AUTH_JWKS_FILE");
  const jwksUri = required(env, "AUTH_JWKS_URI");
  if (!jwksFile && !/^https:\/\/|^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(jwksUri)) {
    throw new ConfigurationError("AUTH_JWKS_URI must be an https URL (plain http only on loopback).");
  }
  if (jwksFile && env.WEBSITE_SITE_NAME) {
    throw new ConfigurationError("AUTH_JWKS_FILE is for local development only and is refused in Azure.");
  }
  if (jwksFile) checkJwksFile(jwksFile);
  const jwksCacheSeconds = positiveInteger(env, "AUTH_JWKS_CACHE_SECONDS");
  const jwksCooldownSeconds = positiveInteger(env, "AUTH_JWKS_COOLDOWN_SECONDS");
  if (jwksCooldownSeconds > jwksCacheSeconds) {
    throw new ConfigurationError("AUTH_JWKS_COOLDOWN_SECONDS must not be longer than AUTH_JWKS_CACHE_SECONDS.");
  }

  const publicBaseUrl = setting(env, "PUBLIC_BASE_URL");
  if (publicBaseUrl && !/^https?:\/\/[^/?#]+$/.test(publicBaseUrl.replace(/\/$/, ""))) {
    throw new ConfigurationError("PUBLIC_BASE_URL must be a scheme and host, like https://api.contoso.com.");
  }

  const credential = required(env, "COSMOS_CREDENTIAL").toLowerCase();
  if (credential !== "managedidentity" && credential !== "developer") {
    throw new ConfigurationError(`COSMOS_CREDENTIAL must be managedidentity or developer, not "${credential}".`);
  }
  if (credential === "developer" && env.WEBSITE_SITE_NAME) {
    throw new ConfigurationError("COSMOS_CREDENTIAL=developer is for local runs only and is refused in Azure.");
  }

  const allowLoopback = required(env, "SUBSCRIPTION_ALLOW_LOOPBACK").toLowerCase();
  if (allowLoopback !== "true" && allowLoopback !== "false") {
    throw new ConfigurationError(`SUBSCRIPTION_ALLOW_LOOPBACK must be true or false, not "${allowLoopback}".`);
  }
  if (allowLoopback === "true" && env.WEBSITE_SITE_NAME) {
    throw new ConfigurationError("SUBSCRIPTION_ALLOW_LOOPBACK=true is for local runs only and is refused in Azure.");
  }
  const retryRaw = required(env, "SUBSCRIPTION_RETRY_SCHEDULE_SECONDS");
  const retryScheduleSeconds = list(retryRaw).map(Number);
  if (retryScheduleSeconds.some((n) => !Number.isInteger(n) || n <= 0 || n > 7 * 86_400)) {
    throw new ConfigurationError(
      `SUBSCRIPTION_RETRY_SCHEDULE_SECONDS must be comma-separated whole seconds (1 to 604800), not "${retryRaw}".`,
    );
  }

  return {
    notificationSigning: notificationSigning(env),
    cosmos: {
      endpoint: required(env, "COSMOS_ENDPOINT"),
      database: required(env, "COSMOS_DATABASE"),
      container: required(env, "COSMOS_CONTAINER"),
      key: setting(env, "COSMOS_KEY"),
      managedIdentityClientId: setting(env, "AZURE_CLIENT_ID"),
      credential,
    },
    auth: { audiences, tenants, jwksUri, jwksFile, jwksCacheSeconds, jwksCooldownSeconds },
    publicBaseUrl: publicBaseUrl?.replace(/\/$/, ""),
    operationTtlSeconds: positiveInteger(env, "OPERATION_TTL_DAYS") * 86_400,
    retryAfterSeconds: positiveInteger(env, "RETRY_AFTER_SECONDS"),
    sweeper: {
      deadlineMinutes: positiveInteger(env, "SWEEPER_DEADLINE_MINUTES"),
      batchSize: positiveInteger(env, "SWEEPER_BATCH_SIZE"),
    },
    inboxQueue: required(env, "OPERATIONS_INBOX_QUEUE"),
    eventsQueue: required(env, "OPERATION_EVENTS_QUEUE"),
    subscriptions: {
      container: required(env, "COSMOS_SUBSCRIPTIONS_CONTAINER"),
      deliveryQueue: required(env, "SUBSCRIPTION_DELIVERY_QUEUE"),
      maxLifetimeMinutes: positiveInteger(env, "SUBSCRIPTION_MAX_LIFETIME_MINUTES"),
      perTenant: positiveInteger(env, "SUBSCRIPTIONS_PER_TENANT"),
      validationTimeoutMs: positiveInteger(env, "SUBSCRIPTION_VALIDATION_TIMEOUT_SECONDS") * 1000,
      deliveryTimeoutMs: positiveInteger(env, "SUBSCRIPTION_DELIVERY_TIMEOUT_SECONDS") * 1000,
      retryScheduleSeconds,
      reauthorizationNoticeMinutes: positiveInteger(env, "SUBSCRIPTION_REAUTHORIZATION_NOTICE_MINUTES"),
      allowLoopback: allowLoopback === "true",
    },
  };
}

let cached: AppConfig | undefined;

/** The process-wide configuration, read once. */
export function config(): AppConfig {
  cached ??= loadConfig();
  return cached;
}
