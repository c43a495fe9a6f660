// Benchmark-only: an in-memory implementation of the OperationStore interface
// (shared/store/operationStore.ts), so the in-process bench measures our code and
// not the store: it keeps the documents it is given as they are (no copy; the
// handlers never change a document once stored) and numbers its entity tags.
// Never used by the product or its tests.
let etags = 0;

const key = (id, teamId) => `${teamId}/${id}`;
const docId = (tenantId, operationId) => `${tenantId}:${operationId}`;

export class MemoryOperationStore {
  #items = new Map();

  async create(document) {
    const k = key(document.id, document.teamId);
    if (this.#items.has(k)) throw Object.assign(new Error("conflict"), { status: 409 });
    const stored = { document, etag: String(++etags) };
    this.#items.set(k, stored);
    return stored;
  }

  async read(tenantId, teamId, operationId) {
    const entry = await this.readEntry(tenantId, teamId, operationId);
    return entry?.kind === "operation" ? entry.stored : undefined;
  }

  async readEntry(tenantId, teamId, operationId) {
    const stored = this.#items.get(key(docId(tenantId, operationId), teamId));
    if (!stored) return undefined;
    return stored.document.tombstone
      ? { kind: "tombstone", tombstone: stored.document, etag: stored.etag }
      : { kind: "operation", stored };
  }

  async bury(tombstone, etag) {
    const k = key(tombstone.id, tombstone.teamId);
    if (!this.#items.has(k)) return false;
    if (this.#items.get(k).etag !== etag) throw Object.assign(new Error("precondition"), { status: 412 });
    this.#items.set(k, { document: tombstone, etag: String(++etags) });
    return true;
  }

  async replace(document, etag) {
    const k = key(document.id, document.teamId);
    if (this.#items.get(k)?.etag !== etag) throw Object.assign(new Error("precondition"), { status: 412 });
    const stored = { document, etag: String(++etags) };
    this.#items.set(k, stored);
    return stored;
  }

  async delete(tenantId, teamId, operationId) {
    return this.#items.delete(key(docId(tenantId, operationId), teamId));
  }

  async query(tenantId, teamId, page) {
    const matching = [...this.#items.values()].filter(
      ({ document: d }) => d.tenantId === tenantId && d.teamId === teamId && !d.tombstone,
    );
    const operations = matching.slice(0, page.top);
    return { operations, continuation: undefined, ...(page.count ? { count: matching.length } : {}) };
  }

  async count(tenantId, teamId) {
    return (await this.query(tenantId, teamId, { top: Infinity, count: true })).count;
  }

  async ping() {
    return true;
  }

  /** Keeps memory flat over long runs. */
  clear() {
    this.#items.clear();
  }
}
