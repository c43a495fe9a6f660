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
import { utcNow } from "../operations/timestamps.js";
import { cosmosClient, cosmosFailure, measured, replaceIfMatch, storeFault } from "../store/operationStore.js";
import type { StoreCall } from "../telemetry.js";
import { isExpired, type SubscriptionCreator, type SubscriptionDocument } from "./model.js";

export interface StoredSubscription {
  readonly document: SubscriptionDocument;
  readonly etag: string;
}

/** A subscription counted against its tenant's limit, until it expires (quota.ts). */
export interface QuotaSlot {
  readonly id: string;
  readonly expirationDateTime: string;
}

/** A tenant's slots as read, with the version to write them back with (undefined: no document yet). */
export interface TenantSlots {
  readonly slots: readonly QuotaSlot[];
  readonly etag: string | undefined;
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
  /**
   * The tenant's quota slots: its one quota document, or, before it has one, its live subscriptions (a tenant that
   * subscribed before the document existed keeps what it holds).
   */
  readSlots(tenantId: string): Promise<TenantSlots>;
  /** Writes a tenant's slots if they are still the version read; false when another write got in first. */
  writeSlots(tenantId: string, slots: readonly QuotaSlot[], etag: string | undefined): Promise<boolean>;
  /** The live subscriptions of one team of one tenant. */
  forResourceKey(resourceKey: string): Promise<SubscriptionDocument[]>;
  /** Live subscriptions with a lifecycle URL that expire by `until` (every tenant: the lifecycle run's query). */
  expiringBy(until: string): Promise<StoredSubscription[]>;
  /** Live subscriptions of tenants other than these (every tenant: the lifecycle run's query). */
  ofTenantsOtherThan(tenants: readonly string[]): Promise<StoredSubscription[]>;
}

const CALL_DEADLINE_MS = 10_000;
/** The lifecycle run's pages: 10 of 100 subscriptions a run at most. */
const LIFECYCLE_PAGE = 100;
const LIFECYCLE_PAGES = 10;

/** One store call within CALL_DEADLINE_MS, reported as the operation store reports its own (metrics, a dependency). */
function bounded<T>(operation: StoreCall["operation"], call: (options: { abortSignal: AbortSignal }) => Promise<T>) {
  return measured(operation, call, CALL_DEADLINE_MS);
}

const SYSTEM_FIELDS = ["_rid", "_self", "_etag", "_attachments", "_ts", "_lsn"];

function strip(resource: Record<string, unknown>): SubscriptionDocument {
  const copy = { ...resource };
  for (const field of SYSTEM_FIELDS) delete copy[field];
  return copy as unknown as SubscriptionDocument;
}

/**
 * A tenant's quota document: in the tenant's own partition (the resource key `{tenantId}`, which no subscription
 * has: theirs is `{tenantId}:{teamId}`), the subscriptions that count against its limit. One document changed with
 * ETags, so that concurrent creates cannot both take the last slot; no subscription query matches it (no tenantId,
 * no creator).
 */
interface TenantQuotaDocument {
  id: typeof QUOTA_DOCUMENT_ID;
  resourceKey: string;
  slots: readonly QuotaSlot[];
}

const QUOTA_DOCUMENT_ID = "tenantQuota";
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
        await bounded("query", (deadline) =>
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
      const { resource, etag } = await bounded("create", (deadline) =>
        this.#container.items.create(document, deadline),
      );
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
      const { resource, etag, statusCode } = await bounded("read", (deadline) =>
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
      const { resource, etag: newEtag } = await bounded(
        "replace",
        replaceIfMatch(this.#container.item(document.id, document.resourceKey), document, etag),
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
      await bounded("delete", (deadline) => this.#container.item(document.id, document.resourceKey).delete(deadline));
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

  async readSlots(tenantId: string): Promise<TenantSlots> {
    try {
      const { resource, etag, statusCode } = await bounded("read", (deadline) =>
        this.#container.item(QUOTA_DOCUMENT_ID, tenantId).read<TenantQuotaDocument>(deadline),
      );
      if (statusCode !== 404 && resource) return { slots: resource.slots, etag };
    } catch (error) {
      if (cosmosFailure(error) !== "notFound") throw storeFault(error);
    }
    const found = await this.#query({
      query: "SELECT c.id, c.expirationDateTime FROM c WHERE c.tenantId = @tenantId AND IS_DEFINED(c.creator)",
      parameters: [{ name: "@tenantId", value: tenantId }],
    });
    const now = Date.now();
    const slots = (found as unknown as QuotaSlot[]).filter((s) => !isExpired(s, now));
    return { slots: slots.map(({ id, expirationDateTime }) => ({ id, expirationDateTime })), etag: undefined };
  }

  async writeSlots(tenantId: string, slots: readonly QuotaSlot[], etag: string | undefined): Promise<boolean> {
    const document: TenantQuotaDocument = { id: QUOTA_DOCUMENT_ID, resourceKey: tenantId, slots };
    try {
      await bounded(etag === undefined ? "create" : "replace", (deadline): Promise<unknown> =>
        etag === undefined
          ? this.#container.items.create(document, deadline)
          : replaceIfMatch(this.#container.item(QUOTA_DOCUMENT_ID, tenantId), document, etag)(deadline),
      );
      return true;
    } catch (error) {
      // 409: another request created the document first; 412: it changed since it was read; 404: it was removed.
      const failure = cosmosFailure(error);
      if (failure === "conflict" || failure === "preconditionFailed" || failure === "notFound") return false;
      throw storeFault(error);
    }
  }

  /** A query over every partition, a page at a time, at most LIFECYCLE_PAGES pages a run: the rest waits for the next. */
  async #scan(spec: SqlQuerySpec): Promise<StoredSubscription[]> {
    const found: StoredSubscription[] = [];
    try {
      await bounded("query", async (deadline) => {
        const iterator = this.#container.items.query<Record<string, unknown>>(spec, {
          maxItemCount: LIFECYCLE_PAGE,
          ...deadline,
        });
        for (let page = 0; page < LIFECYCLE_PAGES && iterator.hasMoreResults(); page++) {
          const { resources } = await iterator.fetchNext();
          for (const resource of resources) found.push({ document: strip(resource), etag: String(resource._etag) });
        }
      });
    } catch (error) {
      throw storeFault(error);
    }
    const now = Date.now();
    return found.filter((s) => !isExpired(s.document, now));
  }

  expiringBy(until: string): Promise<StoredSubscription[]> {
    // Both canonical UTC (seven fractional digits, as every stored expiration is), so they compare as strings.
    return this.#scan({
      query:
        "SELECT * FROM c WHERE IS_STRING(c.lifecycleNotificationUrl) AND c.expirationDateTime > @now AND c.expirationDateTime <= @until",
      parameters: [
        { name: "@now", value: utcNow() },
        { name: "@until", value: until },
      ],
    });
  }

  ofTenantsOtherThan(tenants: readonly string[]): Promise<StoredSubscription[]> {
    return this.#scan({
      query: "SELECT * FROM c WHERE IS_DEFINED(c.creator) AND NOT ARRAY_CONTAINS(@tenants, c.tenantId)",
      parameters: [{ name: "@tenants", value: [...tenants] }],
    });
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

/** Replaces the process-wide subscription store (the in-process handler tests install an in-memory one). */
export function useSubscriptionStore(store: SubscriptionStore): void {
  shared = Promise.resolve(store);
}
