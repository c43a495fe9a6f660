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
    return this.#items.get(key(docId(tenantId, operationId), teamId));
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
    const matching = [...this.#items.values()]
      .map((s) => s.document)
      .filter((d) => d.tenantId === tenantId && d.teamId === teamId);
    const documents = matching.slice(0, page.top);
    return { documents, continuation: undefined, ...(page.count ? { count: matching.length } : {}) };
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
