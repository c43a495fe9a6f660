/**
 * The HTTP handlers of `/subscriptions`: Graph's change-notification
 * subscriptions over a team's operations. A subscription belongs to its
 * tenant and its creator; subscribing and renewing need the permission and
 * the team membership that reading the resource needs, checked with the
 * token of that request.
 */
import { randomUUID } from "node:crypto";
import type { HttpResponseInit } from "@azure/functions";
import { untilWon } from "../contention.js";
import { requirePermission, requireTeamAccess, type Caller } from "../auth/access.js";
import { NotFoundError, PreconditionFailedError } from "../errors.js";
import { badRequest, ErrorCode, GraphError, notFound, notSupported } from "../http/graphError.js";
import type { CallerRequest } from "../http/pipeline.js";
import { preferenceApplied } from "../http/preferences.js";
import { MAX_BODY_BYTES, readBounded, readJsonBody } from "../http/requestBody.js";
import { emptyResponse, jsonResponse } from "../http/responses.js";
import { absoluteUrl } from "../http/urls.js";
import { GUID } from "../ids.js";
import { utcNow } from "../operations/timestamps.js";
import { systemResolver, type AddressPolicy } from "../subscriptions/addressPolicy.js";
import { requireValidatedEndpoint } from "../subscriptions/handshake.js";
import {
  creatorOf,
  heldToAnHour,
  ownedBy,
  parseResource,
  resourceKeyOf,
  toSubscriptionRepresentation,
  ttlUntil,
  type SubscriptionDocument,
} from "../subscriptions/model.js";
import {
  parseCreateSubscription,
  parseRenewal,
  refuseRenewalBeyondAnHour,
  renewed,
  type SubscriptionRequest,
} from "../subscriptions/schema.js";
import { removeSubscription, settleReauthorization } from "../subscriptions/lifecycle.js";
import { claimSlot, releaseSlot, slotsHeld } from "../subscriptions/quota.js";
import { subscriptionStore, type StoredSubscription, type SubscriptionStore } from "../store/subscriptions.js";

function policy(api: CallerRequest): AddressPolicy {
  return { allowLoopback: api.config.subscriptions.allowLoopback, resolve: systemResolver };
}

function store(api: CallerRequest): Promise<SubscriptionStore> {
  return subscriptionStore(api.config);
}

const quotaReached = (held: number, limit: number) =>
  new GraphError(
    403,
    ErrorCode.quotaLimitReached,
    `The tenant holds ${held} subscriptions, the most it may hold (${limit}); delete one or let one expire.`,
  );

const slotOf = (document: SubscriptionDocument) => ({
  id: document.id,
  expirationDateTime: document.expirationDateTime,
});

function entity(document: SubscriptionDocument, api: CallerRequest): Record<string, unknown> {
  return {
    "@odata.context": absoluteUrl(api.wire, "/v1.0/$metadata#subscriptions/$entity"),
    ...toSubscriptionRepresentation(document),
  };
}

function subscriptionIdFrom(api: CallerRequest): string {
  const id = api.params.subscriptionId ?? "";
  if (!GUID.test(id)) {
    throw badRequest("The subscription id in the path must be a GUID.", {
      target: "subscriptionId",
      details: [{ code: "invalidValue", target: "subscriptionId", message: "'subscriptionId' must be a GUID." }],
    });
  }
  return id.toLowerCase();
}

/** The caller's own subscription, or a 404 (also for another tenant's or another creator's: no leak). */
async function ownSubscription(api: CallerRequest): Promise<StoredSubscription> {
  const id = subscriptionIdFrom(api);
  const found = await (await store(api)).find(api.caller.tenantId, id);
  if (!found || !ownedBy(found.document, api.caller)) throw notFound("The subscription does not exist.");
  return found;
}

/** The caller may read what the subscription names: the permission and the team's membership rule. */
function requireReadAccess(caller: Caller, resource: string): void {
  requirePermission(caller, "read");
  const target = parseResource(resource);
  if (!target) throw notFound("The subscription's resource is not served.");
  requireTeamAccess(caller, target.teamId, target.reach);
}

/**
 * Resource data needs what this deployment and this token may lack: a key to sign validation tokens with, and the
 * subscriber's application (the tokens' audience), which the token names.
 */
function requireResourceDataService(api: CallerRequest): void {
  if (!api.config.notificationSigning) {
    throw notSupported("This service is not set up to send resource data.", { target: "includeResourceData" });
  }
  if (!api.caller.appId) {
    throw badRequest(
      "Resource data needs a token that names its client application (azp or appid): validation tokens are addressed to it.",
      { target: "includeResourceData" },
    );
  }
}

/** What a subscription keeps for its resource data: the certificate, and how a GET by its creator would be written. */
function resourceDataFields(body: SubscriptionRequest, api: CallerRequest): Partial<SubscriptionDocument> {
  if (!body.includeResourceData && body.encryptionCertificate === null && body.encryptionCertificateId === null) {
    return {};
  }
  return {
    includeResourceData: body.includeResourceData,
    encryptionCertificate: body.encryptionCertificate,
    encryptionCertificateId: body.encryptionCertificateId,
    serviceOrigin: api.wire.baseUrl,
    includeUnknownEnumMembers: api.wire.preferences.includeUnknownEnumMembers,
  };
}

/** POST /subscriptions: validate, check access and limits, run the handshake, then store. */
export async function createSubscription(api: CallerRequest): Promise<HttpResponseInit> {
  const { caller, config } = api;
  const rules = {
    maxLifetimeMinutes: config.subscriptions.maxLifetimeMinutes,
    allowLoopback: config.subscriptions.allowLoopback,
    delegated: caller.kind === "delegated",
  };
  const body = parseCreateSubscription(await readJsonBody(api.request), rules);
  requireReadAccess(caller, body.resource);
  if (body.includeResourceData) requireResourceDataService(api);
  const creator = creatorOf(caller);
  if (!creator)
    throw new GraphError(
      403,
      ErrorCode.accessDenied,
      "The token names no user (oid) or application to own the subscription.",
    );
  const subscriptions = await store(api);
  const limit = config.subscriptions.perTenant;
  // A first look, so that a tenant at its limit costs no handshake; the slot is taken after the handshake.
  const held = await slotsHeld(subscriptions, caller.tenantId);
  if (held >= limit) throw quotaReached(held, limit);
  const handshake = { policy: policy(api), timeoutMs: config.subscriptions.validationTimeoutMs };
  await Promise.all([
    requireValidatedEndpoint("notificationUrl", body.notificationUrl, handshake),
    body.lifecycleNotificationUrl === null
      ? undefined
      : requireValidatedEndpoint("lifecycleNotificationUrl", body.lifecycleNotificationUrl, handshake),
  ]);
  const document: SubscriptionDocument = {
    id: randomUUID(),
    resourceKey: resourceKeyOf(caller.tenantId, body.target.teamId),
    tenantId: caller.tenantId,
    teamId: body.target.teamId,
    operationId: body.target.operationId,
    resource: body.resource,
    teamPath: body.target.teamPath,
    changeTypes: body.changeTypes,
    notificationUrl: body.notificationUrl,
    lifecycleNotificationUrl: body.lifecycleNotificationUrl,
    clientState: body.clientState,
    expirationDateTime: body.expirationDateTime,
    createdDateTime: utcNow(),
    creator,
    applicationId: caller.appId ?? null,
    latestSupportedTlsVersion: body.latestSupportedTlsVersion,
    ttl: ttlUntil(body.expirationDateTime),
    ...resourceDataFields(body, api),
  };
  const slot = await claimSlot(subscriptions, caller.tenantId, slotOf(document), limit);
  if (!slot.claimed) throw quotaReached(slot.held, limit);
  let stored: SubscriptionDocument;
  try {
    ({ document: stored } = await subscriptions.create(document));
  } catch (error) {
    await releaseSlot(subscriptions, caller.tenantId, document.id).catch(() => undefined); // else it lapses at expiry
    throw error;
  }
  return jsonResponse(201, entity(stored, api), api.wire, {
    Location: absoluteUrl(api.wire, `/v1.0/subscriptions/${stored.id}`),
    ...(stored.includeUnknownEnumMembers ? preferenceApplied(["include-unknown-enum-members"]) : {}),
  });
}

/** GET /subscriptions: the caller's own live subscriptions. */
export async function listSubscriptions(api: CallerRequest): Promise<HttpResponseInit> {
  requirePermission(api.caller, "read");
  const creator = creatorOf(api.caller);
  const documents = creator ? await (await store(api)).listByCreator(api.caller.tenantId, creator) : [];
  return jsonResponse(
    200,
    {
      "@odata.context": absoluteUrl(api.wire, "/v1.0/$metadata#subscriptions"),
      value: documents.map(toSubscriptionRepresentation),
    },
    api.wire,
  );
}

/** GET /subscriptions/{id}. */
export async function getSubscription(api: CallerRequest): Promise<HttpResponseInit> {
  requirePermission(api.caller, "read");
  const { document } = await ownSubscription(api);
  return jsonResponse(200, entity(document, api), api.wire);
}

/**
 * Whether the caller, a delegated creator with the read permission and a full groups claim, is known to have left
 * the subscribed team: not a missing permission or a claim that cannot be checked (group overage), which another
 * token could mend, but the token of the user who subscribed saying that user is no longer a member.
 */
function leftTheTeam(caller: Caller, resource: string): boolean {
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
async function recheckAccess(api: CallerRequest, document: SubscriptionDocument): Promise<void> {
  try {
    requireReadAccess(api.caller, document.resource);
  } catch (error) {
    if (!(error instanceof GraphError) || !leftTheTeam(api.caller, document.resource)) throw error;
    await removeSubscription(document, "its creator is no longer a member of the team", {
      store: await store(api),
      policy: policy(api),
      timeoutMs: api.config.subscriptions.deliveryTimeoutMs,
      log: (message) => api.context.info(message),
    });
    throw new GraphError(error.status, error.code, `${error.message} The subscription was removed.`);
  }
}

/**
 * PATCH /subscriptions/{id}: renew (a new expirationDateTime, and a replaced certificate if given), with the access
 * of this request's token.
 */
export async function renewSubscription(api: CallerRequest): Promise<HttpResponseInit> {
  const { config } = api;
  const renewal = parseRenewal(await readJsonBody(api.request), {
    maxLifetimeMinutes: config.subscriptions.maxLifetimeMinutes,
    allowLoopback: config.subscriptions.allowLoopback,
  });
  // A renewal that loses a race to another (no If-Match asked for one version) reads again and is applied.
  const stored = await untilWon(async () => {
    const { document, etag } = await ownSubscription(api);
    await recheckAccess(api, document);
    if (heldToAnHour(document)) refuseRenewalBeyondAnHour(renewal.expirationDateTime);
    const next = renewed(document, renewal);
    const renewedDocument = { ...next, renewedDateTime: utcNow(), ttl: ttlUntil(next.expirationDateTime) };
    const subscriptions = await store(api);
    // The slot first: should the replace then fail, the slot outlives the subscription, never the reverse.
    await claimSlot(subscriptions, document.tenantId, slotOf(renewedDocument));
    return (await subscriptions.replace(renewedDocument, etag)).document;
  }, "The subscription is being renewed concurrently; retry.");
  return jsonResponse(200, entity(stored, api), api.wire);
}

/**
 * POST /subscriptions/{id}/reauthorize: Graph's answer to reauthorizationRequired without a new expiration. The
 * caller's access is checked now, with this request's token (a creator who has left the team loses the
 * subscription, as on renewal); a pending reauthorizationRequired of the current expiration is settled, so it is
 * not sent again. 204, as in Graph. It takes no body (an empty JSON object is no body either).
 */
export async function reauthorizeSubscription(api: CallerRequest): Promise<HttpResponseInit> {
  await refuseBody(api);
  const { document, etag } = await ownSubscription(api);
  await recheckAccess(api, document);
  const settled = settleReauthorization(document, api.config.subscriptions.reauthorizationNoticeMinutes);
  // A change that got in first (a renewal, a deletion) wins: it settles or ends the challenge itself.
  if (settled) {
    await (await store(api)).replace(settled, etag).catch((error: unknown) => {
      if (!(error instanceof PreconditionFailedError || error instanceof NotFoundError)) throw error;
    });
  }
  return emptyResponse(204, api.wire);
}

/** A request that takes no body: 400 for one with anything in it (a JSON object with no property is nothing). */
async function refuseBody(api: CallerRequest): Promise<void> {
  const bytes = await readBounded(api.request, MAX_BODY_BYTES);
  const text = Buffer.from(bytes).toString("utf8").trim();
  if (text === "" || /^\{\s*\}$/.test(text)) return;
  throw badRequest("This action takes no request body.");
}

/** DELETE /subscriptions/{id}: 204; notifications stop. */
export async function deleteSubscription(api: CallerRequest): Promise<HttpResponseInit> {
  requirePermission(api.caller, "read");
  const { document } = await ownSubscription(api);
  const subscriptions = await store(api);
  if (!(await subscriptions.delete(document))) throw notFound("The subscription does not exist.");
  // A slot whose release fails lapses at the subscription's expiration.
  await releaseSlot(subscriptions, document.tenantId, document.id).catch(() => undefined);
  return emptyResponse(204, api.wire);
}
