/**
 * The HTTP handlers of `/subscriptions`: Graph's change-notification
 * subscriptions over a team's operations. A subscription belongs to its
 * tenant and its creator; subscribing and renewing need the permission and
 * the team membership that reading the resource needs, checked with the
 * token of that request.
 */
import { randomUUID } from "node:crypto";
import type { HttpResponseInit } from "@azure/functions";
import { requirePermission, requireTeamAccess, type Caller } from "../auth/access.js";
import { badRequest, ErrorCode, GraphError, notFound } from "../http/graphError.js";
import type { CallerRequest } from "../http/pipeline.js";
import { readJsonBody } from "../http/requestBody.js";
import { emptyResponse, jsonResponse } from "../http/responses.js";
import { absoluteUrl } from "../http/urls.js";
import { GUID } from "../ids.js";
import { utcNow } from "../operations/timestamps.js";
import { systemResolver, type AddressPolicy } from "../subscriptions/addressPolicy.js";
import { requireValidatedEndpoint } from "../subscriptions/handshake.js";
import {
  creatorOf,
  ownedBy,
  parseResource,
  resourceKeyOf,
  toSubscriptionRepresentation,
  type SubscriptionDocument,
} from "../subscriptions/model.js";
import { parseCreateSubscription, parseRenewal } from "../subscriptions/schema.js";
import { subscriptionStore, type StoredSubscription, type SubscriptionStore } from "../subscriptions/store.js";

function policy(api: CallerRequest): AddressPolicy {
  return { allowLoopback: api.config.subscriptions.allowLoopback, resolve: systemResolver };
}

function store(api: CallerRequest): Promise<SubscriptionStore> {
  return subscriptionStore(api.config);
}

/** Seconds until the expiration, for the document's TTL (at least one: Cosmos refuses 0). */
function ttlUntil(expirationDateTime: string): number {
  return Math.max(1, Math.ceil((Date.parse(expirationDateTime) - Date.now()) / 1000));
}

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

/** POST /subscriptions: validate, check access and limits, run the handshake, then store. */
export async function createSubscription(api: CallerRequest): Promise<HttpResponseInit> {
  const { caller, config } = api;
  const rules = {
    maxLifetimeMinutes: config.subscriptions.maxLifetimeMinutes,
    allowLoopback: config.subscriptions.allowLoopback,
  };
  const body = parseCreateSubscription(await readJsonBody(api.request), rules);
  requireReadAccess(caller, body.resource);
  const creator = creatorOf(caller);
  if (!creator)
    throw new GraphError(
      403,
      ErrorCode.accessDenied,
      "The token names no user (oid) or application to own the subscription.",
    );
  const subscriptions = await store(api);
  const held = await subscriptions.countForTenant(caller.tenantId);
  if (held >= config.subscriptions.perTenant) {
    throw new GraphError(
      403,
      ErrorCode.quotaLimitReached,
      `The tenant holds ${held} subscriptions, the most it may hold (${config.subscriptions.perTenant}); delete one or let one expire.`,
    );
  }
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
  };
  const { document: stored } = await subscriptions.create(document);
  return jsonResponse(201, entity(stored, api), api.wire, {
    Location: absoluteUrl(api.wire, `/v1.0/subscriptions/${stored.id}`),
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

/** PATCH /subscriptions/{id}: renew (a new expirationDateTime), with the access of this request's token. */
export async function renewSubscription(api: CallerRequest): Promise<HttpResponseInit> {
  const { config } = api;
  const expirationDateTime = parseRenewal(await readJsonBody(api.request), {
    maxLifetimeMinutes: config.subscriptions.maxLifetimeMinutes,
    allowLoopback: config.subscriptions.allowLoopback,
  });
  const { document, etag } = await ownSubscription(api);
  requireReadAccess(api.caller, document.resource);
  const renewed = { ...document, expirationDateTime, ttl: ttlUntil(expirationDateTime) };
  const { document: stored } = await (await store(api)).replace(renewed, etag);
  return jsonResponse(200, entity(stored, api), api.wire);
}

/** DELETE /subscriptions/{id}: 204; notifications stop. */
export async function deleteSubscription(api: CallerRequest): Promise<HttpResponseInit> {
  requirePermission(api.caller, "read");
  const { document } = await ownSubscription(api);
  if (!(await (await store(api)).delete(document))) throw notFound("The subscription does not exist.");
  return emptyResponse(204, api.wire);
}
