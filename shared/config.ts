/**
 * Every setting the app reads, in one catalogue. The Bicep template, the
 * sample settings file and the README are checked against this list by tests,
 * so none of them can drift from what the code actually reads.
 */
import { readFileSync } from "node:fs";
import { distance } from "fastest-levenshtein";
import { GUID } from "./ids.js";

/** How a setting's text (trimmed, its default when unset or empty; undefined when it has none) becomes its value. */
interface Parser<T> {
  /** What it accepts, in words, for the documentation. */
  readonly accepts: string;
  /** The value; a ConfigurationError naming the setting when the text is missing or not allowed. */
  read(text: string | undefined, name: string): T;
}

/** One setting of the catalogue: what it is, its default, and how the app reads it. */
interface SettingEntry {
  readonly description: string;
  /** Value used when the setting is absent (undefined: no default). */
  readonly default?: string;
  /** Only meaningful on a developer machine; never set by the deployment. */
  readonly localOnly?: boolean;
  /** Read by the Functions host or a binding, not by our code directly: no parser. */
  readonly host?: true;
  readonly value?: Parser<unknown>;
}

/** A setting of the catalogue as a row: what the documentation, the sample settings and Bicep are checked against. */
export interface SettingSpec {
  readonly name: string;
  readonly description: string;
  readonly default?: string;
  readonly localOnly?: boolean;
  readonly host?: boolean;
  /** What the app accepts, in words (none for the host's settings). */
  readonly accepts?: string;
}

/** Where the app's data is unless COSMOS_DATABASE and the container settings say otherwise. */
export const COSMOS_DEFAULTS = {
  database: "teamops",
  container: "operations",
  subscriptionsContainer: "subscriptions",
} as const;

export class ConfigurationError extends Error {
  constructor(message: string) {
    super(`Configuration error: ${message}`);
    this.name = "ConfigurationError";
  }
}

// ---------------------------------------------------------------- parsers

function list(raw: string): string[] {
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function present(text: string | undefined, name: string): string {
  if (!text) throw new ConfigurationError(`${name} is required (see local.settings.sample.json).`);
  return text;
}

const optionalText: Parser<string | undefined> = { accepts: "text", read: (text) => text };

const requiredText: Parser<string> = { accepts: "text", read: present };

const positiveInteger: Parser<number> = {
  accepts: "a whole number above 0",
  read(text, name) {
    const raw = present(text, name);
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) {
      throw new ConfigurationError(`${name} must be a positive whole number, not "${raw}".`);
    }
    return value;
  },
};

const trueOrFalse: Parser<boolean> = {
  accepts: "true or false",
  read(text, name) {
    const value = present(text, name).toLowerCase();
    if (value !== "true" && value !== "false") {
      throw new ConfigurationError(`${name} must be true or false, not "${value}".`);
    }
    return value === "true";
  },
};

const credentialKind: Parser<"managedidentity" | "developer"> = {
  accepts: "managedidentity or developer",
  read(text, name) {
    const value = present(text, name).toLowerCase();
    if (value !== "managedidentity" && value !== "developer") {
      throw new ConfigurationError(`${name} must be managedidentity or developer, not "${value}".`);
    }
    return value;
  },
};

const audiences: Parser<readonly string[]> = {
  accepts: "a comma-separated list",
  read(text, name) {
    const values = list(present(text, name));
    if (values.length === 0) throw new ConfigurationError(`${name} must name at least one audience.`);
    if (values.some((a) => a === "*" || /\s/.test(a))) {
      throw new ConfigurationError(
        `${name} must list the API's own client id and/or App ID URI; wildcards and spaces are refused.`,
      );
    }
    return values;
  },
};

/** `"*"` accepts any tenant; otherwise the allow-list. */
const tenants: Parser<readonly string[] | "*"> = {
  accepts: "* or a comma-separated list of GUIDs",
  read(text, name) {
    const raw = present(text, name);
    if (raw === "*") return "*";
    const values = list(raw).map((t) => t.toLowerCase());
    if (values.length === 0 || values.some((t) => !GUID.test(t))) {
      throw new ConfigurationError(`${name} must be * or a comma-separated list of tenant GUIDs.`);
    }
    return values;
  },
};

/** A scheme and host, kept without a trailing slash. */
const baseUrl: Parser<string | undefined> = {
  accepts: "an http(s) scheme and host",
  read(text, name) {
    if (!text) return undefined;
    const value = text.replace(/\/$/, "");
    if (!/^https?:\/\/[^/?#]+$/.test(value)) {
      throw new ConfigurationError(`${name} must be a scheme and host, like https://api.contoso.com.`);
    }
    return value;
  },
};

const retrySchedule: Parser<readonly number[]> = {
  accepts: "a comma-separated list of whole seconds (1 to 604800)",
  read(text, name) {
    const raw = present(text, name);
    const values = list(raw).map(Number);
    if (values.some((n) => !Number.isInteger(n) || n <= 0 || n > 7 * 86_400)) {
      throw new ConfigurationError(`${name} must be comma-separated whole seconds (1 to 604800), not "${raw}".`);
    }
    return values;
  },
};

/** A versionless Key Vault key identifier: the vault's https URL, `/keys/`, the key's name. */
const KEY_VAULT_KEY_ID = /^https:\/\/[^/?#]+\/keys\/[0-9A-Za-z-]{1,127}$/;

const keyVaultKeyId: Parser<string | undefined> = {
  accepts: "a Key Vault key id without a version",
  read(text, name) {
    if (!text) return undefined;
    const value = text.replace(/\/$/, "");
    if (!KEY_VAULT_KEY_ID.test(value)) {
      throw new ConfigurationError(
        `${name} must be a Key Vault key id without a version, like https://<vault>.vault.azure.net/keys/<name>, not "${text}".`,
      );
    }
    return value;
  },
};

// ---------------------------------------------------------------- the catalogue

/** Every setting, by name: the one place a setting is declared. */
const CATALOGUE = {
  COSMOS_ENDPOINT: {
    description: "Cosmos DB account endpoint (https://<account>.documents.azure.com:443/).",
    value: requiredText,
  },
  COSMOS_DATABASE: { description: "Cosmos DB database name.", default: COSMOS_DEFAULTS.database, value: requiredText },
  COSMOS_CONTAINER: {
    description: "Cosmos DB container of operations (partition key /teamId).",
    default: COSMOS_DEFAULTS.container,
    value: requiredText,
  },
  COSMOS_KEY: {
    description: "Account key, only for the local embedded store or the emulator. Absent: managed identity (Entra ID).",
    localOnly: true,
    value: optionalText,
  },
  COSMOS_CREDENTIAL: {
    description:
      "How the app authenticates to Cosmos DB when COSMOS_KEY is unset: managedidentity (ManagedIdentityCredential with AZURE_CLIENT_ID), or developer (DefaultAzureCredential: your Azure CLI, azd or editor sign-in, for a local run against a real account; refused in Azure).",
    default: "managedidentity",
    localOnly: true,
    value: credentialKind,
  },
  AZURE_CLIENT_ID: {
    description:
      "Client id of the user-assigned managed identity used for Cosmos DB, Storage and Application Insights ingestion.",
    value: optionalText,
  },
  AUTH_AUDIENCES: {
    description: "Comma-separated token audiences accepted: the API's client id and/or App ID URI.",
    value: audiences,
  },
  AUTH_TENANTS: {
    description:
      "Comma-separated tenant ids whose tokens are accepted, or * for any tenant (each tenant sees only its own operations).",
    value: tenants,
  },
  AUTH_JWKS_URI: {
    description: "Where token signing keys are published.",
    default: "https://login.microsoftonline.com/common/discovery/v2.0/keys",
    value: requiredText,
  },
  AUTH_JWKS_FILE: {
    description:
      "Path to a JWKS file with the local development signing key; used instead of AUTH_JWKS_URI on a developer machine.",
    localOnly: true,
    value: optionalText,
  },
  AUTH_JWKS_CACHE_SECONDS: {
    description:
      "Seconds the signing keys from AUTH_JWKS_URI are cached before they are fetched again; a key withdrawn from the key set stops being accepted within this time (or at the next refetch an unknown key id triggers).",
    default: "3600",
    value: positiveInteger,
  },
  AUTH_JWKS_COOLDOWN_SECONDS: {
    description:
      "Seconds to wait after a fetch of the signing keys before a token with an unknown key id may trigger another fetch.",
    default: "30",
    value: positiveInteger,
  },
  PUBLIC_BASE_URL: {
    description:
      "Public base URL (scheme and host) used in Location and @odata.context behind a proxy; default: the request's own.",
    default: "",
    value: baseUrl,
  },
  OPERATION_TTL_DAYS: {
    description: "Days a finished operation is kept before it expires.",
    default: "30",
    value: positiveInteger,
  },
  RETRY_AFTER_SECONDS: {
    description: "Retry-After sent while an operation has not finished.",
    default: "5",
    value: positiveInteger,
  },
  APPLICATIONINSIGHTS_CONNECTION_STRING: {
    description: "Application Insights connection string; absent: no telemetry.",
    value: optionalText,
  },
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: {
    description:
      "Entra ID authentication for telemetry ingestion: ClientId=<managed identity client id>;Authorization=AAD.",
    value: optionalText,
  },
  OPERATIONS_INBOX_QUEUE: {
    description: "Queue of create/update messages from event-driven callers; its poison queue is <name>-poison.",
    default: "operations-inbox",
    value: requiredText,
  },
  OPERATION_EVENTS_QUEUE: {
    description: "Queue that receives one CloudEvents 1.0 message when an operation succeeds or fails.",
    default: "operation-events",
    value: requiredText,
  },
  SWEEPER_SCHEDULE: {
    description: "NCRONTAB schedule of the stuck-operation sweeper (six fields, seconds first).",
    default: "0 */5 * * * *",
    value: requiredText,
  },
  SWEEPER_DEADLINE_MINUTES: {
    description:
      "Minutes without action after which a notStarted or inProgress operation is failed (operationTimedOut).",
    default: "60",
    value: positiveInteger,
  },
  SWEEPER_BATCH_SIZE: {
    description: "Operations the sweeper reads per page; it stops after 10 pages a run and continues on the next.",
    default: "100",
    value: positiveInteger,
  },
  COSMOS_SUBSCRIPTIONS_CONTAINER: {
    description: "Cosmos DB container of change-notification subscriptions (partition key /resourceKey, TTL on).",
    default: COSMOS_DEFAULTS.subscriptionsContainer,
    value: requiredText,
  },
  SUBSCRIPTION_DELIVERY_QUEUE: {
    description: "Queue of notification batches waiting for a retry; its poison queue is <name>-poison.",
    default: "subscription-deliveries",
    value: requiredText,
  },
  SUBSCRIPTION_MAX_LIFETIME_MINUTES: {
    description: "Longest a subscription may live before it must be renewed (Graph states one per resource).",
    default: "4230",
    value: positiveInteger,
  },
  SUBSCRIPTIONS_PER_TENANT: {
    description: "Most subscriptions one tenant may hold at once.",
    default: "100",
    value: positiveInteger,
  },
  SUBSCRIPTION_VALIDATION_TIMEOUT_SECONDS: {
    description: "Seconds a notification URL has to answer the validation handshake (Graph: 10).",
    default: "10",
    value: positiveInteger,
  },
  SUBSCRIPTION_DELIVERY_TIMEOUT_SECONDS: {
    description: "Seconds a receiver has to acknowledge a notification batch with a 2xx.",
    default: "5",
    value: positiveInteger,
  },
  SUBSCRIPTION_RETRY_SCHEDULE_SECONDS: {
    description:
      "Comma-separated delays before each retry of an unacknowledged batch; after the last, it is dropped with a missed lifecycle notification.",
    default: "10,60,300,900,1800,3600",
    value: retrySchedule,
  },
  SUBSCRIPTION_LIFECYCLE_SCHEDULE: {
    description:
      "NCRONTAB schedule of the subscription lifecycle run (reauthorizationRequired before expiry, subscriptionRemoved for tenants no longer accepted); every 15 minutes, well inside the reauthorization notice, so an idle app does not start an instance every minute.",
    default: "0 */15 * * * *",
    value: requiredText,
  },
  SUBSCRIPTION_REAUTHORIZATION_NOTICE_MINUTES: {
    description:
      "Minutes before its expiration a subscription with a lifecycleNotificationUrl is sent reauthorizationRequired.",
    default: "60",
    value: positiveInteger,
  },
  SUBSCRIPTION_ALLOW_LOOPBACK: {
    description:
      "true: notification URLs may be plain http to 127.0.0.0/8, ::1 or localhost, to try and test receivers locally. Refused in Azure.",
    default: "false",
    localOnly: true,
    value: trueOrFalse,
  },
  NOTIFICATION_SIGNING_KEY_ID: {
    description:
      "Key Vault key that signs the validation tokens of notifications with resource data (https://<vault>.vault.azure.net/keys/<name>, no version: the current version signs, earlier ones stay published while their tokens live), used through the managed identity. Unset: subscriptions with resource data are refused.",
    value: keyVaultKeyId,
  },
  NOTIFICATION_SIGNING_KEY_FILE: {
    description:
      "Path to a JSON Web Key (RSA, private) that signs validation tokens on a developer machine, instead of NOTIFICATION_SIGNING_KEY_ID. Refused in Azure.",
    localOnly: true,
    value: optionalText,
  },
  FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: {
    description:
      "The Functions host's request body limit in bytes (65536: a JSON batch's limit, twice a single request's), refused before the body is read.",
    host: true,
  },
  COSMOS__accountEndpoint: {
    description: "Cosmos DB endpoint for the change-feed trigger's connection (COSMOS).",
    host: true,
  },
  COSMOS__credential: { description: "managedidentity: the change-feed trigger uses Entra ID.", host: true },
  COSMOS__clientId: { description: "Client id of the identity for the change-feed trigger.", host: true },
  AzureWebJobsStorage__credential: {
    description: "managedidentity: the host storage connection uses Entra ID.",
    host: true,
  },
  AzureWebJobsStorage__clientId: { description: "Client id of the identity for host storage.", host: true },
  AzureWebJobsStorage__blobServiceUri: { description: "Blob endpoint of the host storage account.", host: true },
  AzureWebJobsStorage__queueServiceUri: { description: "Queue endpoint of the host storage account.", host: true },
} as const satisfies Readonly<Record<string, SettingEntry>>;

type Catalogue = typeof CATALOGUE;
export type SettingName = keyof Catalogue;
/** The settings the app reads itself (the host reads the others). */
export type AppSettingName = {
  [K in SettingName]: Catalogue[K] extends { readonly value: Parser<unknown> } ? K : never;
}[SettingName];
/** What a setting's parser makes of it: the type of its value in the configuration. */
export type SettingValue<K extends AppSettingName> = Catalogue[K] extends { readonly value: Parser<infer T> }
  ? T
  : never;

/** The catalogue as rows, in its order. */
export const SETTINGS: readonly SettingSpec[] = Object.entries(CATALOGUE).map(
  ([name, entry]: [string, SettingEntry]) => {
    const { value, ...rest } = entry;
    return { name, ...rest, ...(value ? { accepts: value.accepts } : {}) };
  },
);

type Env = Readonly<Record<string, string | undefined>>;

/** One setting, read and checked by its parser: its name must be one of the catalogue's (a typo fails the type check). */
export function readSetting<K extends AppSettingName>(env: Env, name: K): SettingValue<K> {
  const entry: SettingEntry = CATALOGUE[name];
  const text = env[name]?.trim() || entry.default || undefined;
  return entry.value!.read(text, name) as SettingValue<K>;
}

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

/** The app's configuration: the settings, read by their parsers (`SettingValue`), grouped by what uses them. */
export interface AppConfig {
  readonly cosmos: {
    readonly endpoint: SettingValue<"COSMOS_ENDPOINT">;
    readonly database: SettingValue<"COSMOS_DATABASE">;
    readonly container: SettingValue<"COSMOS_CONTAINER">;
    readonly key: SettingValue<"COSMOS_KEY">;
    readonly managedIdentityClientId: SettingValue<"AZURE_CLIENT_ID">;
    /** Without a key: the app's managed identity, or (opt-in, local only) a developer's own sign-in. */
    readonly credential: SettingValue<"COSMOS_CREDENTIAL">;
  };
  readonly auth: {
    readonly audiences: SettingValue<"AUTH_AUDIENCES">;
    /** `"*"` accepts any tenant; otherwise the allow-list. */
    readonly tenants: SettingValue<"AUTH_TENANTS">;
    readonly jwksUri: SettingValue<"AUTH_JWKS_URI">;
    readonly jwksFile: SettingValue<"AUTH_JWKS_FILE">;
    /** How long fetched signing keys are trusted before they are fetched again. */
    readonly jwksCacheSeconds: SettingValue<"AUTH_JWKS_CACHE_SECONDS">;
    /** Minimum time between two fetches that unknown key ids trigger. */
    readonly jwksCooldownSeconds: SettingValue<"AUTH_JWKS_COOLDOWN_SECONDS">;
  };
  readonly publicBaseUrl: SettingValue<"PUBLIC_BASE_URL">;
  readonly operationTtlSeconds: number;
  readonly retryAfterSeconds: SettingValue<"RETRY_AFTER_SECONDS">;
  readonly sweeper: {
    readonly deadlineMinutes: SettingValue<"SWEEPER_DEADLINE_MINUTES">;
    readonly batchSize: SettingValue<"SWEEPER_BATCH_SIZE">;
  };
  /** The queue of create/update messages (its name is also the trigger's binding expression). */
  readonly inboxQueue: SettingValue<"OPERATIONS_INBOX_QUEUE">;
  /** The queue completion events are written to. */
  readonly eventsQueue: SettingValue<"OPERATION_EVENTS_QUEUE">;
  readonly subscriptions: {
    readonly container: SettingValue<"COSMOS_SUBSCRIPTIONS_CONTAINER">;
    readonly deliveryQueue: SettingValue<"SUBSCRIPTION_DELIVERY_QUEUE">;
    readonly maxLifetimeMinutes: SettingValue<"SUBSCRIPTION_MAX_LIFETIME_MINUTES">;
    readonly perTenant: SettingValue<"SUBSCRIPTIONS_PER_TENANT">;
    readonly validationTimeoutMs: number;
    readonly deliveryTimeoutMs: number;
    /** Seconds before each retry; its length bounds how long a batch is retried. */
    readonly retryScheduleSeconds: SettingValue<"SUBSCRIPTION_RETRY_SCHEDULE_SECONDS">;
    /** How long before its expiration a subscription is sent reauthorizationRequired. */
    readonly reauthorizationNoticeMinutes: SettingValue<"SUBSCRIPTION_REAUTHORIZATION_NOTICE_MINUTES">;
    readonly allowLoopback: SettingValue<"SUBSCRIPTION_ALLOW_LOOPBACK">;
  };
  /** Where the validation tokens of notifications with resource data are signed; undefined: nowhere (refused). */
  readonly notificationSigning: NotificationSigningConfig | undefined;
}

/** A Key Vault key (its versionless id), or on a developer machine a JSON Web Key file. */
export type NotificationSigningConfig =
  | { readonly kind: "keyVault"; readonly keyId: string; readonly managedIdentityClientId: string | undefined }
  | { readonly kind: "file"; readonly file: string };

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

/** What no setting may be in Azure (WEBSITE_SITE_NAME set): a local-only choice that would open the app up. */
function refuseInAzure(env: Env, what: string): void {
  if (env.WEBSITE_SITE_NAME) throw new ConfigurationError(`${what} is for local runs only and is refused in Azure.`);
}

function notificationSigning(env: Env): NotificationSigningConfig | undefined {
  const file = readSetting(env, "NOTIFICATION_SIGNING_KEY_FILE");
  if (file && readSetting(env, "NOTIFICATION_SIGNING_KEY_ID")) {
    throw new ConfigurationError("Set NOTIFICATION_SIGNING_KEY_ID or NOTIFICATION_SIGNING_KEY_FILE, not both.");
  }
  if (file) {
    if (env.WEBSITE_SITE_NAME) {
      throw new ConfigurationError(
        "NOTIFICATION_SIGNING_KEY_FILE is for local development only and is refused in Azure.",
      );
    }
    checkSigningKeyFile(file);
    return { kind: "file", file };
  }
  const keyId = readSetting(env, "NOTIFICATION_SIGNING_KEY_ID");
  if (!keyId) return undefined;
  return { kind: "keyVault", keyId, managedIdentityClientId: readSetting(env, "AZURE_CLIENT_ID") };
}

/**
 * Reads and checks the configuration; refuses an incomplete or contradictory one rather than run open. Each setting
 * is checked by its parser; what concerns several settings, or Azure, is checked here.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const read = <K extends AppSettingName>(name: K): SettingValue<K> => readSetting(env, name);
  const tenants = read("AUTH_TENANTS");
  const audiences = read("AUTH_AUDIENCES");

  const jwksFile = read("AUTH_JWKS_FILE");
  const jwksUri = read("AUTH_JWKS_URI");
  if (!jwksFile && !/^https:\/\/|^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(jwksUri)) {
    throw new ConfigurationError("AUTH_JWKS_URI must be an https URL (plain http only on loopback).");
  }
  if (jwksFile && env.WEBSITE_SITE_NAME) {
    throw new ConfigurationError("AUTH_JWKS_FILE is for local development only and is refused in Azure.");
  }
  if (jwksFile) checkJwksFile(jwksFile);
  const jwksCacheSeconds = read("AUTH_JWKS_CACHE_SECONDS");
  const jwksCooldownSeconds = read("AUTH_JWKS_COOLDOWN_SECONDS");
  if (jwksCooldownSeconds > jwksCacheSeconds) {
    throw new ConfigurationError("AUTH_JWKS_COOLDOWN_SECONDS must not be longer than AUTH_JWKS_CACHE_SECONDS.");
  }

  const publicBaseUrl = read("PUBLIC_BASE_URL");

  const credential = read("COSMOS_CREDENTIAL");
  if (credential === "developer") refuseInAzure(env, "COSMOS_CREDENTIAL=developer");

  const allowLoopback = read("SUBSCRIPTION_ALLOW_LOOPBACK");
  if (allowLoopback) refuseInAzure(env, "SUBSCRIPTION_ALLOW_LOOPBACK=true");
  const retryScheduleSeconds = read("SUBSCRIPTION_RETRY_SCHEDULE_SECONDS");

  return {
    notificationSigning: notificationSigning(env),
    cosmos: {
      endpoint: read("COSMOS_ENDPOINT"),
      database: read("COSMOS_DATABASE"),
      container: read("COSMOS_CONTAINER"),
      key: read("COSMOS_KEY"),
      managedIdentityClientId: read("AZURE_CLIENT_ID"),
      credential,
    },
    auth: { audiences, tenants, jwksUri, jwksFile, jwksCacheSeconds, jwksCooldownSeconds },
    publicBaseUrl,
    operationTtlSeconds: read("OPERATION_TTL_DAYS") * 86_400,
    retryAfterSeconds: read("RETRY_AFTER_SECONDS"),
    sweeper: {
      deadlineMinutes: read("SWEEPER_DEADLINE_MINUTES"),
      batchSize: read("SWEEPER_BATCH_SIZE"),
    },
    inboxQueue: read("OPERATIONS_INBOX_QUEUE"),
    eventsQueue: read("OPERATION_EVENTS_QUEUE"),
    subscriptions: {
      container: read("COSMOS_SUBSCRIPTIONS_CONTAINER"),
      deliveryQueue: read("SUBSCRIPTION_DELIVERY_QUEUE"),
      maxLifetimeMinutes: read("SUBSCRIPTION_MAX_LIFETIME_MINUTES"),
      perTenant: read("SUBSCRIPTIONS_PER_TENANT"),
      validationTimeoutMs: read("SUBSCRIPTION_VALIDATION_TIMEOUT_SECONDS") * 1000,
      deliveryTimeoutMs: read("SUBSCRIPTION_DELIVERY_TIMEOUT_SECONDS") * 1000,
      retryScheduleSeconds,
      reauthorizationNoticeMinutes: read("SUBSCRIPTION_REAUTHORIZATION_NOTICE_MINUTES"),
      allowLoopback,
    },
  };
}

let cached: AppConfig | undefined;

/** The process-wide configuration, read once. */
export function config(): AppConfig {
  cached ??= loadConfig();
  return cached;
}
