/**
 * Subscriptions under their rules: who may subscribe to what, the tenant's
 * limit, the validation handshake, the stored document, renewal with the
 * renewing token's access checked again, reauthorization and deletion. The one
 * path for the HTTP handlers (api/subscriptions.ts), which add only how they
 * read the request and write Graph's answer. A subscription belongs to its
 * tenant and its creator: another's is answered as one that does not exist.
 */
import { randomUUID } from "node:crypto";
import { requirePermission, requireTeamAccess, type Caller } from "../auth/access.js";
import type { AppConfig } from "../config.js";
import { untilWon } from "../contention.js";
import {
  AccessDeniedError,
  InvalidInputError,
  NotFoundError,
  PreconditionFailedError,
  QuotaExceededError,
  UnsupportedError,
} from "../errors.js";
import { utcNow } from "../operations/timestamps.js";
import type { AddressPolicy } from "./addressPolicy.js";
import { requireValidatedEndpoint } from "./handshake.js";
import { removeSubscription, settleReauthorization } from "./lifecycle.js";
import {
  creatorOf,
  heldToAnHour,
  ownedBy,
  parseResource,
  resourceKeyOf,
  ttlUntil,
  type SubscriptionCreator,
  type SubscriptionDocument,
} from "./model.js";
import { claimSlot, releaseSlot, slotsHeld } from "./quota.js";
import { refuseRenewalBeyondAnHour, renewed, type Renewal, type SubscriptionRequest } from "./schema.js";
import type { StoredSubscription, SubscriptionStore } from "../store/subscriptions.js";

export type EndpointProperty = "notificationUrl" | "lifecycleNotificationUrl";

/** What the service works with: the store, the limits and timeouts of the configuration, the network, the clock. */
export interface SubscriptionServiceOptions extends Pick<
  AppConfig["subscriptions"],
  "perTenant" | "validationTimeoutMs" | "deliveryTimeoutMs" | "reauthorizationNoticeMinutes"
> {
  readonly store: SubscriptionStore;
  /** Where the service may send: the handshake, and subscriptionRemoved to a subscription it removes. */
  readonly policy: AddressPolicy;
  /** Whether validation tokens can be signed here, which resource data needs. */
  readonly signsValidationTokens: boolean;
  readonly log: (message: string) => void;
  /** The clock, in milliseconds since the epoch; Date.now by default. */
  readonly now?: () => number;
  /** The validation handshake of one URL; Graph's (handshake.ts) over `policy` by default. */
  readonly validateEndpoint?: (property: EndpointProperty, url: string) => Promise<void>;
}

/** Where a subscription was created, which its resource data is written for. */
export interface CreatedAt {
  /** Scheme and host, as a GET there would write the resource's URLs. */
  readonly serviceOrigin: string;
  /** Whether the create asked for evolvable enum members (`Prefer: include-unknown-enum-members`). */
  readonly includeUnknownEnumMembers: boolean;
}

const clock = (options: Pick<SubscriptionServiceOptions, "now">) => options.now?.() ?? Date.now();

export const subscriptionNotFound = () => new NotFoundError("The subscription does not exist.");

const quotaReached = (held: number, limit: number) =>
  new QuotaExceededError(
    `The tenant holds ${held} subscriptions, the most it may hold (${limit}); delete one or let one expire.`,
  );

const slotOf = (document: SubscriptionDocument) => ({
  id: document.id,
  expirationDateTime: document.expirationDateTime,
});

/** The caller may read what a subscription names: the permission and the team's membership rule. */
export function requireReadAccess(caller: Caller, resource: string): void {
  requirePermission(caller, "read");
  const target = parseResource(resource);
  if (!target) throw new NotFoundError("The subscription's resource is not served.");
  requireTeamAccess(caller, target.teamId, target.reach);
}

/**
 * Resource data needs what this deployment and this token may lack: a key to sign validation tokens with, and the
 * subscriber's application (the tokens' audience), which the token names.
 */
function requireResourceDataService(
  options: Pick<SubscriptionServiceOptions, "signsValidationTokens">,
  caller: Caller,
) {
  if (!options.signsValidationTokens) {
    throw new UnsupportedError("This service is not set up to send resource data.", { target: "includeResourceData" });
  }
  if (!caller.appId) {
    throw new InvalidInputError(
      "Resource data needs a token that names its client application (azp or appid): validation tokens are addressed to it.",
      { target: "includeResourceData" },
    );
  }
}

/** The owner of what the caller creates; an AccessDeniedError when the token names none. */
function requireCreator(caller: Caller): SubscriptionCreator {
  const creator = creatorOf(caller);
  if (!creator) {
    throw new AccessDeniedError("The token names no user (oid) or application to own the subscription.");
  }
  return creator;
}

/** What a subscription keeps for its resource data: the certificate, and how a GET by its creator would be written. */
function resourceDataFields(request: SubscriptionRequest, at: CreatedAt): Partial<SubscriptionDocument> {
  if (
    !request.includeResourceData &&
    request.encryptionCertificate === null &&
    request.encryptionCertificateId === null
  ) {
    return {};
  }
  return {
    includeResourceData: request.includeResourceData,
    encryptionCertificate: request.encryptionCertificate,
    encryptionCertificateId: request.encryptionCertificateId,
    serviceOrigin: at.serviceOrigin,
    includeUnknownEnumMembers: at.includeUnknownEnumMembers,
  };
}

/** The document a create stores: a new id, the partition of the subscribed team, the owner, a TTL to the expiration. */
export function newSubscriptionDocument(
  request: SubscriptionRequest,
  owner: { readonly tenantId: string; readonly creator: SubscriptionCreator; readonly applicationId: string | null },
  at: CreatedAt,
  now: number,
): SubscriptionDocument {
  return {
    id: randomUUID(),
    resourceKey: resourceKeyOf(owner.tenantId, request.target.teamId),
    tenantId: owner.tenantId,
    teamId: request.target.teamId,
    operationId: request.target.operationId,
    resource: request.resource,
    teamPath: request.target.teamPath,
    changeTypes: request.changeTypes,
    notificationUrl: request.notificationUrl,
    lifecycleNotificationUrl: request.lifecycleNotificationUrl,
    clientState: request.clientState,
    expirationDateTime: request.expirationDateTime,
    createdDateTime: utcNow(new Date(now)),
    creator: owner.creator,
    applicationId: owner.applicationId,
    latestSupportedTlsVersion: request.latestSupportedTlsVersion,
    ttl: ttlUntil(request.expirationDateTime, now),
    ...resourceDataFields(request, at),
  };
}

/** Runs the handshake on each of the request's URLs at once; the first that fails refuses the subscription. */
async function requireValidatedEndpoints(options: SubscriptionServiceOptions, request: SubscriptionRequest) {
  const validate =
    options.validateEndpoint ??
    ((property: EndpointProperty, url: string) =>
      requireValidatedEndpoint(property, url, { policy: options.policy, timeoutMs: options.validationTimeoutMs }));
  await Promise.all([
    validate("notificationUrl", request.notificationUrl),
    request.lifecycleNotificationUrl === null
      ? undefined
      : validate("lifecycleNotificationUrl", request.lifecycleNotificationUrl),
  ]);
}

/**
 * A new subscription: the caller's access to what it names, the tenant's limit, the handshake, then the store. The
 * limit is looked at first, so that a tenant at its limit costs no handshake; the slot is taken after the handshake,
 * and given back should the create then fail.
 */
export async function createSubscription(
  options: SubscriptionServiceOptions,
  caller: Caller,
  request: SubscriptionRequest,
  at: CreatedAt,
): Promise<SubscriptionDocument> {
  requireReadAccess(caller, request.resource);
  if (request.includeResourceData) requireResourceDataService(options, caller);
  const creator = requireCreator(caller);
  const { store, perTenant: limit } = options;
  const held = await slotsHeld(store, caller.tenantId);
  if (held >= limit) throw quotaReached(held, limit);
  await requireValidatedEndpoints(options, request);
  const owner = { tenantId: caller.tenantId, creator, applicationId: caller.appId ?? null };
  const document = newSubscriptionDocument(request, owner, at, clock(options));
  const slot = await claimSlot(store, caller.tenantId, slotOf(document), limit);
  if (!slot.claimed) throw quotaReached(slot.held, limit);
  try {
    return (await store.create(document)).document;
  } catch (error) {
    await releaseSlot(store, caller.tenantId, document.id).catch(() => undefined); // else it lapses at expiry
    throw error;
  }
}

/** The caller's own subscription; a NotFoundError for another tenant's or another creator's too (no leak). */
async function ownSubscription(store: SubscriptionStore, caller: Caller, id: string): Promise<StoredSubscription> {
  const found = await store.find(caller.tenantId, id);
  if (!found || !ownedBy(found.document, caller)) throw subscriptionNotFound();
  return found;
}

/** One of the caller's own subscriptions, by id. */
export async function getSubscription(
  store: SubscriptionStore,
  caller: Caller,
  id: string,
): Promise<SubscriptionDocument> {
  return (await ownSubscription(store, caller, id)).document;
}

/** The caller's own live subscriptions (none for a token that names no owner). */
export async function listSubscriptions(store: SubscriptionStore, caller: Caller): Promise<SubscriptionDocument[]> {
  const creator = creatorOf(caller);
  return creator ? store.listByCreator(caller.tenantId, creator) : [];
}

/**
 * Whether the caller, a delegated creator with the read permission and a full groups claim, is known to have left
 * the subscribed team: not a missing permission or a claim that cannot be checked (group overage), which another
 * token could mend, but the token of the user who subscribed saying that user is no longer a member.
 */
export function leftTheTeam(caller: Caller, resource: string): boolean {
  if (caller.kind !== "delegated" || caller.groups === "overage") return false;
  const target = parseResource(resource);
  if (!target) return false;
  try {
    requirePermission(caller, "read");
  } catch {
    return false;
  }
  return !caller.groups.has(target.teamId);
}

/**
 * The caller's access to what the subscription names, with the token of this request. When that token shows its
 * user has left the team, the subscription is removed (subscriptionRemoved to its lifecycle URL): its notifications
 * would tell someone outside the team of the team's operations until it expired.
 */
async function recheckAccess(
  options: SubscriptionServiceOptions,
  caller: Caller,
  document: SubscriptionDocument,
): Promise<void> {
  try {
    requireReadAccess(caller, document.resource);
  } catch (error) {
    if (!(error instanceof Error) || !leftTheTeam(caller, document.resource)) throw error;
    await removeSubscription(document, "its creator is no longer a member of the team", {
      store: options.store,
      policy: options.policy,
      timeoutMs: options.deliveryTimeoutMs,
      log: options.log,
    });
    // A member's refusal by the team's membership rule: the caller is told that the subscription went with it.
    throw new AccessDeniedError(`${error.message} The subscription was removed.`);
  }
}

/**
 * What a renewal stores: the new expiration (an hour at most for a subscription held to one) and any replaced
 * certificate, when it was renewed, and a TTL that now ends at the new expiration.
 */
export function renewedDocument(document: SubscriptionDocument, renewal: Renewal, now: number): SubscriptionDocument {
  if (heldToAnHour(document)) refuseRenewalBeyondAnHour(renewal.expirationDateTime, now);
  const next = renewed(document, renewal, now);
  return { ...next, renewedDateTime: utcNow(new Date(now)), ttl: ttlUntil(next.expirationDateTime, now) };
}

/**
 * A renewal, with the access of the renewing token. One that loses a race to another (no If-Match asked for one
 * version) reads again and is applied.
 */
export function renewSubscription(
  options: SubscriptionServiceOptions,
  caller: Caller,
  id: string,
  renewal: Renewal,
): Promise<SubscriptionDocument> {
  const { store } = options;
  return untilWon(async () => {
    const { document, etag } = await ownSubscription(store, caller, id);
    await recheckAccess(options, caller, document);
    const next = renewedDocument(document, renewal, clock(options));
    // The slot first: should the replace then fail, the slot outlives the subscription, never the reverse.
    await claimSlot(store, document.tenantId, slotOf(next));
    return (await store.replace(next, etag)).document;
  }, "The subscription is being renewed concurrently; retry.");
}

/**
 * Graph's answer to reauthorizationRequired without a new expiration: the caller's access is checked now, with this
 * request's token (a creator who has left the team loses the subscription, as on renewal); a pending
 * reauthorizationRequired of the current expiration is settled, so it is not sent again.
 */
export async function reauthorizeSubscription(
  options: SubscriptionServiceOptions,
  caller: Caller,
  id: string,
): Promise<void> {
  const { document, etag } = await ownSubscription(options.store, caller, id);
  await recheckAccess(options, caller, document);
  const settled = settleReauthorization(document, options.reauthorizationNoticeMinutes, clock(options));
  // A change that got in first (a renewal, a deletion) wins: it settles or ends the challenge itself.
  if (settled) {
    await options.store.replace(settled, etag).catch((error: unknown) => {
      if (!(error instanceof PreconditionFailedError || error instanceof NotFoundError)) throw error;
    });
  }
}

/** Deletes one of the caller's subscriptions: its notifications stop, and its slot is freed. */
export async function deleteSubscription(store: SubscriptionStore, caller: Caller, id: string): Promise<void> {
  const { document } = await ownSubscription(store, caller, id);
  if (!(await store.delete(document))) throw subscriptionNotFound();
  // A slot whose release fails lapses at the subscription's expiration.
  await releaseSlot(store, document.tenantId, document.id).catch(() => undefined);
}
