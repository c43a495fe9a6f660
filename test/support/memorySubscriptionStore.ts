/**
 * An in-memory SubscriptionStore, for what is about the code above the store:
 * the in-process handler tests and the service's unit tests. It answers as
 * CosmosSubscriptionStore does (test/integration/subscriptions/
 * subscriptionStore.contract.test.ts holds both to the same assertions):
 * documents keyed by partition (the resource key) and id, an entity tag that
 * changes on every write, conditional writes that fail with the same errors,
 * expired subscriptions treated as gone, and each tenant's quota document in
 * the tenant's own partition. A test can make a method throw any error
 * (a throttled or unavailable store, say) to see what the API makes of it.
 * Integration tests use the real store on the embedded Cosmos DB server.
 */
import { NotFoundError, PreconditionFailedError, StoreRejectedError } from "../../shared/errors.js";
import { utcNow } from "../../shared/operations/timestamps.js";
import { isExpired, type SubscriptionCreator, type SubscriptionDocument } from "../../shared/subscriptions/model.js";
import type {
  QuotaSlot,
  StoredSubscription,
  SubscriptionStore,
  TenantSlots,
} from "../../shared/store/subscriptions.js";

type Method = keyof SubscriptionStore;

interface Entry<T> {
  readonly document: T;
  readonly etag: string;
}

/** The most the lifecycle queries return in one run, as the Cosmos store's pages allow (10 of 100). */
const LIFECYCLE_LIMIT = 1_000;

/** What Cosmos DB gives back: a copy, as JSON keeps it (no undefined properties). */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export class MemorySubscriptionStore implements SubscriptionStore {
  readonly #subscriptions = new Map<string, Entry<SubscriptionDocument>>();
  readonly #quotas = new Map<string, Entry<readonly QuotaSlot[]>>();
  readonly #faults = new Map<Method, () => Error>();
  #etags = 0;

  /** Makes every call of `method` throw what `error` gives, until `clearFaults`. */
  failOn(method: Method, error: () => Error): void {
    this.#faults.set(method, error);
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  /** Every stored subscription, expired or not, as stored: for checking what a request stored. */
  documents(): SubscriptionDocument[] {
    return [...this.#subscriptions.values()].map((entry) => copy(entry.document));
  }

  /** A tenant's quota document's slots as stored; undefined before it has one. */
  quotaSlots(tenantId: string): readonly QuotaSlot[] | undefined {
    const entry = this.#quotas.get(tenantId);
    return entry && copy(entry.document);
  }

  #fault(method: Method): void {
    const fault = this.#faults.get(method);
    if (fault) throw fault();
  }

  #etag(): string {
    this.#etags++;
    return `"memory-${String(this.#etags).padStart(8, "0")}"`;
  }

  #key(resourceKey: string, id: string): string {
    return JSON.stringify([resourceKey, id]);
  }

  #write(document: SubscriptionDocument): StoredSubscription {
    const entry = { document: copy(document), etag: this.#etag() };
    this.#subscriptions.set(this.#key(document.resourceKey, document.id), entry);
    return { document: copy(entry.document), etag: entry.etag };
  }

  /** The live subscriptions that `match` admits, as stored entries. */
  #live(match: (document: SubscriptionDocument) => boolean): StoredSubscription[] {
    const now = Date.now();
    return [...this.#subscriptions.values()]
      .filter(({ document }) => match(document) && !isExpired(document, now))
      .map(({ document, etag }) => ({ document: copy(document), etag }));
  }

  async create(document: SubscriptionDocument): Promise<StoredSubscription> {
    this.#fault("create");
    // Cosmos DB answers 409 for an id taken in the partition, which no caller expects: the store rejected it.
    if (this.#subscriptions.has(this.#key(document.resourceKey, document.id))) throw new StoreRejectedError();
    return this.#write(document);
  }

  async find(tenantId: string, id: string): Promise<StoredSubscription | undefined> {
    this.#fault("find");
    const [found] = [...this.#subscriptions.values()].filter(
      ({ document }) => document.id === id && document.tenantId === tenantId,
    );
    if (!found || isExpired(found.document)) return undefined;
    return { document: copy(found.document), etag: found.etag };
  }

  async read(resourceKey: string, id: string): Promise<StoredSubscription | undefined> {
    this.#fault("read");
    const found = this.#subscriptions.get(this.#key(resourceKey, id));
    if (!found || isExpired(found.document)) return undefined;
    return { document: copy(found.document), etag: found.etag };
  }

  async replace(document: SubscriptionDocument, etag: string): Promise<StoredSubscription> {
    this.#fault("replace");
    const current = this.#subscriptions.get(this.#key(document.resourceKey, document.id));
    if (!current) throw new NotFoundError("The subscription does not exist.");
    if (current.etag !== etag) throw new PreconditionFailedError();
    return this.#write(document);
  }

  async delete(document: SubscriptionDocument): Promise<boolean> {
    this.#fault("delete");
    return this.#subscriptions.delete(this.#key(document.resourceKey, document.id));
  }

  async listByCreator(tenantId: string, creator: SubscriptionCreator): Promise<SubscriptionDocument[]> {
    this.#fault("listByCreator");
    return this.#live((d) => d.tenantId === tenantId && d.creator.kind === creator.kind && d.creator.id === creator.id)
      .map((s) => s.document)
      .sort((a, b) => (a.createdDateTime < b.createdDateTime ? -1 : a.createdDateTime > b.createdDateTime ? 1 : 0));
  }

  async readSlots(tenantId: string): Promise<TenantSlots> {
    this.#fault("readSlots");
    const quota = this.#quotas.get(tenantId);
    if (quota) return { slots: copy(quota.document), etag: quota.etag };
    // Before the tenant has a quota document: its subscriptions whose expiration has not passed.
    const now = Date.now();
    const slots = [...this.#subscriptions.values()]
      .map(({ document }) => document)
      .filter((d) => d.tenantId === tenantId && d.creator !== undefined)
      .map(({ id, expirationDateTime }) => ({ id, expirationDateTime }))
      .filter((slot) => !isExpired(slot, now));
    return { slots, etag: undefined };
  }

  async writeSlots(tenantId: string, slots: readonly QuotaSlot[], etag: string | undefined): Promise<boolean> {
    this.#fault("writeSlots");
    const current = this.#quotas.get(tenantId);
    // Created only when there is none yet; replaced only when it is still the version read.
    if (etag === undefined ? current !== undefined : current?.etag !== etag) return false;
    this.#quotas.set(tenantId, { document: copy(slots), etag: this.#etag() });
    return true;
  }

  async forResourceKey(resourceKey: string): Promise<SubscriptionDocument[]> {
    this.#fault("forResourceKey");
    return this.#live((d) => d.resourceKey === resourceKey).map((s) => s.document);
  }

  async expiringBy(until: string): Promise<StoredSubscription[]> {
    this.#fault("expiringBy");
    const now = utcNow();
    return this.#live(
      (d) =>
        typeof d.lifecycleNotificationUrl === "string" && d.expirationDateTime > now && d.expirationDateTime <= until,
    ).slice(0, LIFECYCLE_LIMIT);
  }

  async ofTenantsOtherThan(tenants: readonly string[]): Promise<StoredSubscription[]> {
    this.#fault("ofTenantsOtherThan");
    return this.#live((d) => d.creator !== undefined && !tenants.includes(d.tenantId)).slice(0, LIFECYCLE_LIMIT);
  }
}
