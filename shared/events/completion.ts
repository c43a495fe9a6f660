/**
 * Completion events: one CloudEvents 1.0 message per operation that reached
 * `succeeded` or `failed`, by any path (HTTP, queue, sweeper). They come from
 * the store's change feed rather than from the code that wrote the change,
 * so a write and its event can never disagree (no dual write). The event id
 * is derived from the change itself (see `eventId`), so consumers can drop
 * the duplicates an at-least-once feed may deliver, and only those.
 */
import {
  changedAt,
  isFinished,
  isOperationDocument,
  revisionOf,
  toRepresentation,
  type OperationDocument,
} from "../operations/model.js";
import { derivedGuid } from "../operations/rules.js";

export interface CompletionEvent {
  readonly specversion: "1.0";
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject: string;
  readonly time: string;
  readonly datacontenttype: "application/json";
  readonly data: Record<string, unknown>;
}

/**
 * One id per change: the tenant, team, operation and status, and the version the store gave the document at that
 * write (`_etag`, new at every write). A redelivery of the same change has the same id; the same operation id in
 * another team, or an operation deleted and created again, has another.
 */
export function eventId(doc: OperationDocument & { _etag?: unknown; _lsn?: unknown; _ts?: unknown }): string {
  const version = [doc._etag, doc._lsn].find((v) => typeof v === "string" || typeof v === "number");
  return derivedGuid(doc.tenantId, doc.teamId, doc.operationId, doc.status, String(version ?? revisionOf(doc)));
}

/** The events for a batch of changed documents: finished operations only, each change once. */
export function completionEvents(documents: readonly unknown[]): CompletionEvent[] {
  const events = new Map<string, CompletionEvent>();
  for (const doc of documents) {
    if (!isOperationDocument(doc) || !isFinished(doc.status)) continue;
    const id = eventId(doc);
    events.set(id, {
      specversion: "1.0",
      id,
      source: `/teams/${doc.teamId}/operations`,
      type: `microsoft.graph.teamsAsyncOperation.${doc.status}`,
      subject: doc.operationId,
      // The server's time of the change, never the client's lastActionDateTime.
      time: changedAt(doc),
      datacontenttype: "application/json",
      data: {
        tenantId: doc.tenantId,
        teamId: doc.teamId,
        ...toRepresentation(doc, { includeUnknownEnumMembers: true }),
      },
    });
  }
  return [...events.values()];
}
