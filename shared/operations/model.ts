/**
 * The teamsAsyncOperation resource: its enums, its stored document and its
 * Graph representation. Rules about how an operation may change live in
 * `rules.ts`; this file only says what an operation is and how it is written.
 */

export const OPERATION_TYPES = [
  "invalid",
  "cloneTeam",
  "archiveTeam",
  "unarchiveTeam",
  "createTeam",
  "unknownFutureValue",
  "teamifyGroup",
  "createChannel",
  "archiveChannel",
  "unarchiveChannel",
] as const;
export type OperationType = (typeof OPERATION_TYPES)[number];

export const OPERATION_STATUSES = [
  "invalid",
  "notStarted",
  "inProgress",
  "succeeded",
  "failed",
  "unknownFutureValue",
] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

export const UNKNOWN_FUTURE_VALUE = "unknownFutureValue";

/** Graph's evolvable-enum pattern: members declared after the sentinel are hidden from clients that did not opt in. */
export function isEvolvableMember(members: readonly string[], value: string): boolean {
  return members.indexOf(value) > members.indexOf(UNKNOWN_FUTURE_VALUE);
}

/** Members a client may send: everything but the sentinel, the evolvable ones only with the opt-in. */
export function acceptedMembers<M extends string>(
  members: readonly M[],
  includeUnknownEnumMembers: boolean,
): Array<Exclude<M, typeof UNKNOWN_FUTURE_VALUE>> {
  return members.filter(
    (m): m is Exclude<M, typeof UNKNOWN_FUTURE_VALUE> =>
      m !== UNKNOWN_FUTURE_VALUE && (includeUnknownEnumMembers || !isEvolvableMember(members, m)),
  );
}

export interface OperationError {
  code: string | null;
  message: string | null;
}

/** Who created an operation: recorded for audit, never returned. */
export interface CreatedBy {
  readonly kind: "user" | "application" | "queue";
  readonly objectId: string | undefined;
  readonly appId: string | undefined;
  /** For `queue`: the queue and the message that created it (a queue message carries no identity). */
  readonly queue?: string;
  readonly messageId?: string;
}

/** The Cosmos DB document. `id` is tenant-scoped so two tenants can never collide or learn of each other. */
export interface OperationDocument {
  id: string;
  teamId: string;
  tenantId: string;
  operationId: string;
  operationType: OperationType;
  status: OperationStatus;
  createdDateTime: string;
  lastActionDateTime: string;
  attemptsCount: number;
  targetResourceId: string | null;
  targetResourceLocation: string | null;
  error: OperationError | null;
  createdBy: CreatedBy;
  /** Set by a repeatable create (Repeatability-Request-ID): tells a retry from a different request. */
  repeatability?: { requestId: string; fingerprint: string };
  /** Seconds to live once finished (Cosmos per-item TTL); absent while running. */
  ttl?: number;
  /**
   * Server-owned and never returned: 1 when created, one more at every write. What the server decides about a change
   * (created or updated) rests on it, never on the client's `lastActionDateTime`. Absent from documents written before
   * it existed.
   */
  revision?: number;
  /** Server-owned and never returned: the server's clock at the last write (the time of the change it carries). */
  changedDateTime?: string;
}

/** A document that names an operation: an operation, or the tombstone a deleted one leaves. */
export function namesAnOperation(
  value: unknown,
): value is Pick<OperationDocument, "id" | "operationId" | "teamId" | "tenantId"> & { _etag?: string } & Record<
    string,
    unknown
  > {
  const doc = value as Partial<OperationDocument> | null;
  return (
    typeof doc === "object" &&
    doc !== null &&
    typeof doc.id === "string" &&
    typeof doc.operationId === "string" &&
    typeof doc.teamId === "string" &&
    typeof doc.tenantId === "string"
  );
}

/**
 * Whether a document from the store's change feed is an operation: its keys, status and timestamps are there, and
 * it is not a tombstone (what a deleted operation leaves).
 */
export function isOperationDocument(value: unknown): value is OperationDocument & { _etag?: string; _ts?: number } {
  if (!namesAnOperation(value)) return false;
  const doc = value as Partial<OperationDocument>;
  return (
    typeof doc.status === "string" &&
    typeof doc.createdDateTime === "string" &&
    typeof doc.lastActionDateTime === "string" &&
    (doc as { tombstone?: unknown }).tombstone === undefined
  );
}

/** What the store adds to every document it returns: its time of the last write, in whole seconds. */
interface StoreStamped {
  readonly _ts?: unknown;
}

/**
 * An operation's revision: 1 when created, one more at every write. A document written before revisions existed has
 * none: it counts as created when the store's time of its last write (`_ts`) is in the second it was created.
 */
export function revisionOf(doc: OperationDocument & StoreStamped): number {
  if (typeof doc.revision === "number") return doc.revision;
  if (typeof doc._ts !== "number") return 1;
  return doc._ts <= Math.floor(Date.parse(doc.createdDateTime) / 1000) ? 1 : 2;
}

/** The server's time of an operation's last write: what a change event says happened when. */
export function changedAt(doc: OperationDocument & StoreStamped): string {
  if (typeof doc.changedDateTime === "string") return doc.changedDateTime;
  if (typeof doc._ts === "number") return new Date(doc._ts * 1000).toISOString().replace(/\.(\d{3})Z$/, ".$10000Z");
  return doc.createdDateTime;
}

/** A document as read back from the store, with the concurrency token. */
export interface StoredOperation {
  readonly document: OperationDocument;
  readonly etag: string;
}

/**
 * What a deleted operation leaves behind under its id: a write the change feed carries (it carries no deletions),
 * from which change notifications learn of the deletion. One created by a repeatable request keeps that request's
 * record for as long as a finished operation is kept, the memory that a repeat of the request must not create it
 * again; any other lives only as long as the change feed needs to carry it (DELETION_NOTICE_SECONDS). Invisible to
 * every read, list, count and completion event; a different request may create the id anew.
 */
export interface Tombstone {
  id: string;
  teamId: string;
  tenantId: string;
  operationId: string;
  tombstone: true;
  deletedDateTime: string;
  repeatability?: { requestId: string; fingerprint: string };
  ttl: number;
}

/**
 * How long the tombstone of a deletion without a repeatability record is kept: a day, so that the change feed
 * carries it to delivery even after hours of delivery being down, then Cosmos DB's TTL removes it.
 */
export const DELETION_NOTICE_SECONDS = 86_400;

/**
 * Whether a tombstone's time to live has passed. Cosmos DB removes it then; a store that keeps documents past their
 * TTL (the local embedded store) must treat it as gone.
 */
export function isTombstoneExpired(tombstone: Pick<Tombstone, "deletedDateTime" | "ttl">, now = Date.now()): boolean {
  return Date.parse(tombstone.deletedDateTime) + tombstone.ttl * 1000 <= now;
}

/** What the store holds under an id: an operation, or the tombstone of one. */
export type StoredEntry =
  | { readonly kind: "operation"; readonly stored: StoredOperation }
  | { readonly kind: "tombstone"; readonly tombstone: Tombstone; readonly etag: string };

export function documentId(tenantId: string, operationId: string): string {
  return `${tenantId}:${operationId}`;
}

export const ENTITY_TYPE = "#microsoft.graph.teamsAsyncOperation";

/** The representation's properties, in Graph's order. */
export const REPRESENTATION_PROPERTIES = [
  "id",
  "operationType",
  "createdDateTime",
  "status",
  "lastActionDateTime",
  "attemptsCount",
  "targetResourceId",
  "targetResourceLocation",
  "error",
] as const;
export type RepresentationProperty = (typeof REPRESENTATION_PROPERTIES)[number];

/**
 * What a list of operations can be filtered by (`$filter`) and sorted by (`$orderby`, one or two keys): each has its
 * index (`store/operationsIndexingPolicy.json`). The OData parser takes them, and `$metadata` says so.
 */
export const FILTERABLE_PROPERTIES = ["operationType", "createdDateTime", "status", "lastActionDateTime"] as const;
export const SORTABLE_PROPERTIES = ["createdDateTime", "lastActionDateTime"] as const;

export interface RepresentationOptions {
  readonly includeUnknownEnumMembers: boolean;
  readonly select?: readonly RepresentationProperty[];
}

function visibleMember<T extends string>(members: readonly string[], value: T, include: boolean): T {
  return !include && isEvolvableMember(members, value) ? (UNKNOWN_FUTURE_VALUE as T) : value;
}

/** The Graph representation of a stored operation: only public properties, enums folded as the client asked. */
export function toRepresentation(doc: OperationDocument, options: RepresentationOptions): Record<string, unknown> {
  const include = options.includeUnknownEnumMembers;
  const all: Record<RepresentationProperty, unknown> = {
    id: doc.operationId,
    operationType: visibleMember(OPERATION_TYPES, doc.operationType, include),
    createdDateTime: doc.createdDateTime,
    status: visibleMember(OPERATION_STATUSES, doc.status, include),
    lastActionDateTime: doc.lastActionDateTime,
    attemptsCount: doc.attemptsCount,
    targetResourceId: doc.targetResourceId,
    targetResourceLocation: doc.targetResourceLocation,
    error: doc.error ? { code: doc.error.code, message: doc.error.message } : null,
  };
  const out: Record<string, unknown> = {};
  for (const property of options.select ?? REPRESENTATION_PROPERTIES) out[property] = all[property];
  return out;
}

export function isFinished(status: OperationStatus): boolean {
  return status === "succeeded" || status === "failed";
}
