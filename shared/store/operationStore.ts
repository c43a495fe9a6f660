/**
 * The store of operations: one Cosmos DB container partitioned on /teamId.
 * Every call is scoped to one partition (a team) and one tenant; nothing here
 * knows about HTTP. Store faults are translated to Graph errors in one place
 * (`storeFault`), so callers get a 429/503 with Retry-After, never a 500.
 */
import { CosmosClient, type Container, type CosmosClientOptions, type ErrorResponse } from "@azure/cosmos";
import type { AppConfig } from "../config.js";
import { ErrorCode, GraphError, conflict } from "../http/graphError.js";
import { documentId, type OperationDocument, type StoredOperation } from "../operations/model.js";

export interface OperationStore {
  /** Stores a new document; a 409 Graph error when its id already exists in the team. */
  create(document: OperationDocument): Promise<StoredOperation>;
  /** A point read by (tenant, team, operation id); undefined when absent. */
  read(tenantId: string, teamId: string, operationId: string): Promise<StoredOperation | undefined>;
  /** Answers whether the store is reachable, within the given time. */
  ping(timeoutMs: number): Promise<boolean>;
}

/** Cosmos system properties that must never reach a client. */
const SYSTEM_FIELDS = ["_rid", "_self", "_etag", "_attachments", "_ts", "_lsn"] as const;

function strip(resource: Record<string, unknown>): OperationDocument {
  const copy = { ...resource };
  for (const field of SYSTEM_FIELDS) delete copy[field];
  return copy as unknown as OperationDocument;
}

function cosmosStatus(error: unknown): number | undefined {
  const code = (error as ErrorResponse | undefined)?.code;
  return typeof code === "number" ? code : undefined;
}

/** Turns a store failure into the Graph error a caller can act on. */
export function storeFault(error: unknown): GraphError {
  if (error instanceof GraphError) return error;
  const status = cosmosStatus(error);
  if (status === 429) {
    const retryAfterMs = Number((error as ErrorResponse).retryAfterInMs ?? 1000);
    return new GraphError(429, ErrorCode.tooManyRequests, "The store is busy; retry after the time given.", {
      headers: { "Retry-After": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
    });
  }
  if (status === undefined || status === 408 || status === 449 || status >= 500) {
    return new GraphError(503, ErrorCode.serviceUnavailable, "The store is not available; retry later.", {
      headers: { "Retry-After": "5" },
    });
  }
  return new GraphError(500, ErrorCode.internal, "The store rejected the request.");
}

/** The Cosmos client options: an explicit, bounded retry budget well inside the Functions timeout. */
export function cosmosClientOptions(endpoint: string): Pick<CosmosClientOptions, "connectionPolicy"> {
  return {
    connectionPolicy: {
      // A local store (embedded server or emulator) has no regions to discover.
      enableEndpointDiscovery: !/^http:\/\//.test(endpoint),
      requestTimeout: 5_000,
      retryOptions: { maxRetryAttemptCount: 3, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 10 },
    },
  };
}

async function createClient(cosmos: AppConfig["cosmos"]): Promise<CosmosClient> {
  const base = { endpoint: cosmos.endpoint, ...cosmosClientOptions(cosmos.endpoint) };
  if (cosmos.key) return new CosmosClient({ ...base, key: cosmos.key });
  // Loaded only when needed: the identity library is large and local runs never use it.
  const { DefaultAzureCredential } = await import("@azure/identity");
  const aadCredentials = new DefaultAzureCredential(
    cosmos.managedIdentityClientId ? { managedIdentityClientId: cosmos.managedIdentityClientId } : {},
  );
  return new CosmosClient({ ...base, aadCredentials });
}

export class CosmosOperationStore implements OperationStore {
  readonly #container: Container;

  constructor(container: Container) {
    this.#container = container;
  }

  static async connect(cosmos: AppConfig["cosmos"]): Promise<CosmosOperationStore> {
    const client = await createClient(cosmos);
    return new CosmosOperationStore(client.database(cosmos.database).container(cosmos.container));
  }

  async create(document: OperationDocument): Promise<StoredOperation> {
    try {
      const { resource, etag } = await this.#container.items.create(document);
      return { document: strip(resource as unknown as Record<string, unknown>), etag };
    } catch (error) {
      if (cosmosStatus(error) === 409) {
        throw conflict(`An operation with id '${document.operationId}' already exists in this team.`, { target: "id" });
      }
      throw storeFault(error);
    }
  }

  async read(tenantId: string, teamId: string, operationId: string): Promise<StoredOperation | undefined> {
    try {
      const { resource, etag, statusCode } = await this.#container
        .item(documentId(tenantId, operationId), teamId)
        .read<Record<string, unknown>>();
      if (statusCode === 404 || !resource) return undefined;
      const document = strip(resource);
      // Defence in depth: the id already carries the tenant.
      return document.tenantId === tenantId ? { document, etag } : undefined;
    } catch (error) {
      if (cosmosStatus(error) === 404) return undefined;
      throw storeFault(error);
    }
  }

  async ping(timeoutMs: number): Promise<boolean> {
    const abort = AbortSignal.timeout(timeoutMs);
    try {
      await this.#container.read({ abortSignal: abort });
      return true;
    } catch {
      return false;
    }
  }
}

let shared: Promise<OperationStore> | undefined;

/** The process-wide store: one CosmosClient per process, created on first use. */
export function operationStore(cosmos: () => AppConfig["cosmos"]): Promise<OperationStore> {
  shared ??= CosmosOperationStore.connect(cosmos()).catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

/** Replaces the process-wide store (benchmarks use an in-memory one). */
export function useOperationStore(store: OperationStore): void {
  shared = Promise.resolve(store);
}
