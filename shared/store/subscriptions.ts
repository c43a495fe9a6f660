/**
 * The store of subscriptions: their own Cosmos DB container, partitioned by
 * `/resourceKey` (`{tenantId}:{teamId}`), so that delivery, the hot path,
 * finds the subscriptions of a changed operation with one single-partition
 * query. Reads by id (the API's, which knows no team) are cross-partition
 * queries scoped to the tenant. Documents carry a TTL that ends with the
 * subscription; expired ones are treated as gone before Cosmos removes them.
 */
import type { AppConfig } from "../config.js";
import { NotFoundError, PreconditionFailedError, StoreRejectedError } from "../errors.js";
import { utcNow } from "../operations/timestamps.js";
import { isExpired, type SubscriptionCreator, type SubscriptionDocument } from "../subscriptions/model.js";
import { openContainer, storedOf, type StoreContainer, type StoreQuery } from "./cosmos.js";

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

/** The lifecycle run's pages: 10 of 100 subscriptions a run at most. */
const LIFECYCLE_PAGE = 100;
const LIFECYCLE_PAGES = 10;

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
/** The documents of the subscriptions that have not expired. */
function live(found: readonly StoredSubscription[]): SubscriptionDocument[] {
  const now = Date.now();
  return found.map((s) => s.document).filter((d) => !isExpired(d, now));
}

export class CosmosSubscriptionStore implements SubscriptionStore {
  readonly #container: StoreContainer;

  constructor(container: StoreContainer) {
    this.#container = container;
  }

  async #query(query: StoreQuery, partitionKey?: string): Promise<StoredSubscription[]> {
    const found = await this.#container.all<Record<string, unknown>>(query, partitionKey);
    return found.map((resource) => storedOf<SubscriptionDocument>(resource));
  }

  async create(document: SubscriptionDocument): Promise<StoredSubscription> {
    const created = await this.#container.create(document);
    // Every subscription's id is a new GUID: a taken one is nothing a caller could fix.
    if (created === "conflict") throw new StoreRejectedError();
    return created;
  }

  async find(tenantId: string, id: string): Promise<StoredSubscription | undefined> {
    const [found] = await this.#query({
      query: "SELECT * FROM c WHERE c.id = @id AND c.tenantId = @tenantId",
      parameters: [
        { name: "@id", value: id },
        { name: "@tenantId", value: tenantId },
      ],
    });
    return found && !isExpired(found.document) ? found : undefined;
  }

  async read(resourceKey: string, id: string): Promise<StoredSubscription | undefined> {
    const found = await this.#container.read<SubscriptionDocument>(id, resourceKey);
    return found && !isExpired(found.document) ? found : undefined;
  }

  async replace(document: SubscriptionDocument, etag: string): Promise<StoredSubscription> {
    const replaced = await this.#container.replaceIfMatch(document, document.resourceKey, etag);
    if (replaced === "changed") throw new PreconditionFailedError();
    if (replaced === "gone") throw new NotFoundError("The subscription does not exist.");
    return replaced;
  }

  delete(document: SubscriptionDocument): Promise<boolean> {
    return this.#container.delete(document.id, document.resourceKey);
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
    return live(found);
  }

  async readSlots(tenantId: string): Promise<TenantSlots> {
    const quota = await this.#container.read<TenantQuotaDocument>(QUOTA_DOCUMENT_ID, tenantId);
    if (quota) return { slots: quota.document.slots, etag: quota.etag };
    const found = await this.#container.all<QuotaSlot>({
      query: "SELECT c.id, c.expirationDateTime FROM c WHERE c.tenantId = @tenantId AND IS_DEFINED(c.creator)",
      parameters: [{ name: "@tenantId", value: tenantId }],
    });
    const now = Date.now();
    const slots = found.filter((s) => !isExpired(s, now));
    return { slots: slots.map(({ id, expirationDateTime }) => ({ id, expirationDateTime })), etag: undefined };
  }

  async writeSlots(tenantId: string, slots: readonly QuotaSlot[], etag: string | undefined): Promise<boolean> {
    const document: TenantQuotaDocument = { id: QUOTA_DOCUMENT_ID, resourceKey: tenantId, slots };
    // A conflict: another request created the document first; changed: it changed since it was read; gone: removed.
    const written =
      etag === undefined
        ? await this.#container.create(document)
        : await this.#container.replaceIfMatch(document, tenantId, etag);
    return typeof written !== "string";
  }

  /** A query over every partition, a page at a time, at most LIFECYCLE_PAGES pages a run: the rest waits for the next. */
  async #scan(query: StoreQuery): Promise<StoredSubscription[]> {
    const found = await this.#container.scan<Record<string, unknown>>(query, LIFECYCLE_PAGE, LIFECYCLE_PAGES);
    const now = Date.now();
    return found.map((resource) => storedOf<SubscriptionDocument>(resource)).filter((s) => !isExpired(s.document, now));
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
    return live(found);
  }
}

let shared: Promise<SubscriptionStore> | undefined;

/** The process-wide subscription store, through the process's one CosmosClient. */
export function subscriptionStore(cfg: Pick<AppConfig, "cosmos" | "subscriptions">): Promise<SubscriptionStore> {
  shared ??= openContainer(cfg.cosmos, cfg.subscriptions.container)
    .then((container) => new CosmosSubscriptionStore(container))
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
