/**
 * The store of subscriptions: their own Cosmos DB container, partitioned by
 * `/resourceKey` (`{tenantId}:{teamId}`), so that delivery, the hot path,
 * finds the subscriptions of a changed operation with one single-partition
 * query. Reads by id (the API's, which knows no team) are cross-partition
 * queries scoped to the tenant. Documents carry a TTL that ends with the
 * subscription; expired ones are treated as gone before Cosmos removes them.
 */
import type { Container, SqlQuerySpec } from "@azure/cosmos";
import type { AppConfig } from "../config.js";
import { NotFoundError, PreconditionFailedError } from "../errors.js";
import { cosmosClient, cosmosFailure, storeFault } from "../store/operationStore.js";
import { isExpired, type SubscriptionCreator, type SubscriptionDocument } from "./model.js";

export interface StoredSubscription {
  readonly document: SubscriptionDocument;
  readonly etag: string;
}

export interface SubscriptionStore {
  create(document: SubscriptionDocument): Promise<StoredSubscription>;
  /** A tenant's subscription by id (any team), undefined when absent or expired. */
  find(tenantId: string, id: string): Promise<StoredSubscription | undefined>;
  /** A point read, for delivery; undefined when absent or expired. */
  read(resourceKey: string, id: string): Promise<StoredSubscription | undefined>;
  replace(document: SubscriptionDocument, etag: string): Promise<StoredSubscription>;
  delete(document: SubscriptionDocument): Promise<boolean>;
  /** A creator's live subscriptions in a tenant. */
  listByCreator(tenantId: string, creator: SubscriptionCreator): Promise<SubscriptionDocument[]>;
  /** How many live subscriptions a tenant holds. */
  countForTenant(tenantId: string): Promise<number>;
  /** The live subscriptions of one team of one tenant. */
  forResourceKey(resourceKey: string): Promise<SubscriptionDocument[]>;
}

const CALL_DEADLINE_MS = 10_000;

async function bounded<T>(call: (options: { abortSignal: AbortSignal }) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), CALL_DEADLINE_MS);
  try {
    return await call({ abortSignal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

const SYSTEM_FIELDS = ["_rid", "_self", "_etag", "_attachments", "_ts", "_lsn"];

function strip(resource: Record<string, unknown>): SubscriptionDocument {
  const copy = { ...resource };
  for (const field of SYSTEM_FIELDS) delete copy[field];
  return copy as unknown as SubscriptionDocument;
}

const live =
  (now = Date.now()) =>
  (d: SubscriptionDocument) =>
    !isExpired(d, now);

export class CosmosSubscriptionStore implements SubscriptionStore {
  readonly #container: Container;

  constructor(container: Container) {
    this.#container = container;
  }

  async #query(spec: SqlQuerySpec, partitionKey?: string): Promise<Array<Record<string, unknown>>> {
    try {
      return (
        await bounded((deadline) =>
          this.#container.items
            .query<Record<string, unknown>>(spec, { ...(partitionKey ? { partitionKey } : {}), ...deadline })
            .fetchAll(),
        )
      ).resources;
    } catch (error) {
      throw storeFault(error);
    }
  }

  async create(document: SubscriptionDocument): Promise<StoredSubscription> {
    try {
      const { resource, etag } = await bounded((deadline) => this.#container.items.create(document, deadline));
      return { document: strip(resource as unknown as Record<string, unknown>), etag };
    } catch (error) {
      throw storeFault(error);
    }
  }

  async find(tenantId: string, id: string): Promise<StoredSubscription | undefined> {
    const [found] = await this.#query({
      query: "SELECT * FROM c WHERE c.id = @id AND c.tenantId = @tenantId",
      parameters: [
        { name: "@id", value: id },
        { name: "@tenantId", value: tenantId },
      ],
    });
    if (!found) return undefined;
    const document = strip(found);
    return isExpired(document) ? undefined : { document, etag: String(found._etag) };
  }

  async read(resourceKey: string, id: string): Promise<StoredSubscription | undefined> {
    try {
      const { resource, etag, statusCode } = await bounded((deadline) =>
        this.#container.item(id, resourceKey).read<Record<string, unknown>>(deadline),
      );
      if (statusCode === 404 || !resource) return undefined;
      const document = strip(resource);
      return isExpired(document) ? undefined : { document, etag };
    } catch (error) {
      if (cosmosFailure(error) === "notFound") return undefined;
      throw storeFault(error);
    }
  }

  async replace(document: SubscriptionDocument, etag: string): Promise<StoredSubscription> {
    try {
      const { resource, etag: newEtag } = await bounded((deadline) =>
        this.#container
          .item(document.id, document.resourceKey)
          .replace<Record<string, unknown>>(document as unknown as Record<string, unknown>, {
            accessCondition: { type: "IfMatch", condition: etag },
            ...deadline,
          }),
      );
      return { document: strip(resource as Record<string, unknown>), etag: newEtag };
    } catch (error) {
      const failure = cosmosFailure(error);
      if (failure === "preconditionFailed") throw new PreconditionFailedError();
      if (failure === "notFound") throw new NotFoundError("The subscription does not exist.");
      throw storeFault(error);
    }
  }

  async delete(document: SubscriptionDocument): Promise<boolean> {
    try {
      await bounded((deadline) => this.#container.item(document.id, document.resourceKey).delete(deadline));
      return true;
    } catch (error) {
      if (cosmosFailure(error) === "notFound") return false;
      throw storeFault(error);
    }
  }

  async listByCreator(tenantId: string, creator: SubscriptionCreator): Promise<SubscriptionDocument[]> {
    const found = await this.#query({
      query:
        "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.creator.kind = @kind AND c.creator.id = @creatorId ORDER BY c.createdDateTime",
      parameters: [
        { name: "@tenantId", value: tenantId },
        { name: "@kind", value: creator.kind },
        { name: "@creatorId", value: creator.id },
      ],
    });
    return found.map(strip).filter(live());
  }

  async countForTenant(tenantId: string): Promise<number> {
    const found = await this.#query({
      query: "SELECT c.expirationDateTime FROM c WHERE c.tenantId = @tenantId",
      parameters: [{ name: "@tenantId", value: tenantId }],
    });
    const now = Date.now();
    return found.filter((d) => !isExpired(d as { expirationDateTime: string }, now)).length;
  }

  async forResourceKey(resourceKey: string): Promise<SubscriptionDocument[]> {
    const found = await this.#query(
      { query: "SELECT * FROM c WHERE c.resourceKey = @key", parameters: [{ name: "@key", value: resourceKey }] },
      resourceKey,
    );
    return found.map(strip).filter(live());
  }
}

let shared: Promise<SubscriptionStore> | undefined;

/** The process-wide subscription store, through the process's one CosmosClient. */
export function subscriptionStore(cfg: Pick<AppConfig, "cosmos" | "subscriptions">): Promise<SubscriptionStore> {
  shared ??= cosmosClient(cfg.cosmos)
    .then(
      (client) =>
        new CosmosSubscriptionStore(client.database(cfg.cosmos.database).container(cfg.subscriptions.container)),
    )
    .catch((error: unknown) => {
      shared = undefined;
      throw error;
    });
  return shared;
}
