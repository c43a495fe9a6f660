/**
 * The subscription resource (Graph's `microsoft.graph.subscription`) over a
 * team's operations: its stored document, its representation, and the
 * resource paths a subscription may name.
 */
import type { Caller } from "../auth/access.js";
import { TEAM_PATHS, type TeamPathName } from "../http/teamPaths.js";
import type { TeamReach } from "../auth/access.js";
import { GUID_SOURCE } from "../ids.js";
import { OPERATION_ID_PATTERN } from "../operations/schemas.js";

export const CHANGE_TYPES = ["created", "updated", "deleted"] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

export interface SubscriptionCreator {
  readonly kind: "user" | "application";
  /** The user's object id, or the application's service principal (else its app id). */
  readonly id: string;
}

export interface SubscriptionDocument {
  /** The subscription's id, a GUID. */
  id: string;
  /** The partition key: `{tenantId}:{teamId}`, what delivery looks subscriptions up by. */
  resourceKey: string;
  tenantId: string;
  teamId: string;
  /** Set when the subscription names one operation. */
  operationId: string | null;
  /** The resource as the client named it (Graph echoes it). */
  resource: string;
  /** Which route form it names: its membership rule is re-checked at renewal. */
  teamPath: TeamPathName;
  changeTypes: ChangeType[];
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  clientState: string | null;
  expirationDateTime: string;
  createdDateTime: string;
  creator: SubscriptionCreator;
  applicationId: string | null;
  latestSupportedTlsVersion: string;
  /** Cosmos DB time-to-live, seconds: the document expires with the subscription. */
  ttl: number;
  /**
   * The expiration whose reauthorizationRequired is settled: acknowledged by the lifecycle URL, or answered with
   * `reauthorize` (a renewal, which moves the expiration, asks again).
   */
  reauthorizationNotifiedFor?: string;
  /** Rich notifications: each one carries the operation, encrypted for the certificate (absent: false). */
  includeResourceData?: boolean;
  /** The subscriber's certificate (base64 DER) and its own name for it, as given; a renewal may replace them. */
  encryptionCertificate?: string | null;
  encryptionCertificateId?: string | null;
  /**
   * Scheme and host the subscription was created at (PUBLIC_BASE_URL, or the request's own): the URLs in its
   * resource data, as a GET there would write them, and the issuer of its validation tokens.
   */
  serviceOrigin?: string;
  /** Whether the create sent `Prefer: include-unknown-enum-members`: its resource data then names evolvable members. */
  includeUnknownEnumMembers?: boolean;
}

/** Whether a subscription's notifications carry resource data (and so need a certificate and validation tokens). */
export function hasResourceData(
  document: Pick<SubscriptionDocument, "includeResourceData" | "encryptionCertificate">,
): document is SubscriptionDocument & { includeResourceData: true; encryptionCertificate: string } {
  return document.includeResourceData === true && typeof document.encryptionCertificate === "string";
}

export const resourceKeyOf = (tenantId: string, teamId: string) => `${tenantId}:${teamId}`;

export interface SubscribedResource {
  readonly teamId: string;
  readonly operationId: string | null;
  readonly teamPath: TeamPathName;
  readonly reach: TeamReach;
}

const OPERATION_ID = OPERATION_ID_PATTERN.replace(/^\^|\$$/g, "");

/** Each team path with `/operations` or `/operations/{id}` after it, as a pattern with named groups. */
const RESOURCE_PATTERNS = (Object.entries(TEAM_PATHS) as Array<[TeamPathName, (typeof TEAM_PATHS)[TeamPathName]]>).map(
  ([name, path]) => ({
    name,
    path,
    pattern: new RegExp(
      `^${path.prefix.replace(/\{(\w+)\}/g, (_, param: string) => `(?<${param}>${param === "userId" ? "[^/]+" : GUID_SOURCE})`)}/operations(?:/(?<operationId>${OPERATION_ID}))?$`,
      "i",
    ),
  }),
);

/** The team (and operation) a subscription's `resource` names, or undefined when it names none. */
export function parseResource(resource: string): SubscribedResource | undefined {
  const path = resource.replace(/^\//, "");
  for (const { name, path: teamPath, pattern } of RESOURCE_PATTERNS) {
    const groups = pattern.exec(path)?.groups;
    if (!groups) continue;
    const teamId = groups[teamPath.teamParam];
    if (!teamId) continue;
    return {
      teamId: teamId.toLowerCase(),
      operationId: groups.operationId ?? null,
      teamPath: name,
      reach: teamPath.reach(groups),
    };
  }
  return undefined;
}

/** Who owns what a caller creates; undefined when the token names no principal. */
export function creatorOf(caller: Caller): SubscriptionCreator | undefined {
  const id = caller.kind === "delegated" ? caller.userId : (caller.servicePrincipalId ?? caller.appId);
  return id ? { kind: caller.kind === "delegated" ? "user" : "application", id: id.toLowerCase() } : undefined;
}

export function ownedBy(document: SubscriptionDocument, caller: Caller): boolean {
  const creator = creatorOf(caller);
  return (
    document.tenantId === caller.tenantId &&
    creator !== undefined &&
    creator.kind === document.creator.kind &&
    creator.id === document.creator.id
  );
}

/** Seconds until the expiration, for the document's TTL, which counts from its last write (at least one: Cosmos refuses 0). */
export function ttlUntil(expirationDateTime: string, now = Date.now()): number {
  return Math.max(1, Math.ceil((Date.parse(expirationDateTime) - now) / 1000));
}

export function isExpired(document: Pick<SubscriptionDocument, "expirationDateTime">, now = Date.now()): boolean {
  return Date.parse(document.expirationDateTime) <= now;
}

/** Graph's representation of a subscription. */
export function toSubscriptionRepresentation(document: SubscriptionDocument): Record<string, unknown> {
  return {
    id: document.id,
    resource: document.resource,
    applicationId: document.applicationId,
    changeType: document.changeTypes.join(","),
    clientState: document.clientState,
    notificationUrl: document.notificationUrl,
    notificationQueryOptions: null,
    lifecycleNotificationUrl: document.lifecycleNotificationUrl,
    expirationDateTime: document.expirationDateTime,
    creatorId: document.creator.id,
    includeResourceData: document.includeResourceData ?? false,
    latestSupportedTlsVersion: document.latestSupportedTlsVersion,
    encryptionCertificate: document.encryptionCertificate ?? null,
    encryptionCertificateId: document.encryptionCertificateId ?? null,
    notificationUrlAppId: null,
  };
}
