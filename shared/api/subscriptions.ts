/**
 * The HTTP handlers of `/subscriptions`: Graph's change-notification
 * subscriptions over a team's operations. Each one reads the request, calls
 * the subscription service (subscriptions/service.ts), which holds the rules,
 * and writes Graph's answer.
 */
import type { HttpResponseInit } from "@azure/functions";
import { requirePermission } from "../auth/access.js";
import { badRequest } from "../http/graphError.js";
import type { CallerRequest } from "../http/pipeline.js";
import { preferenceApplied } from "../http/preferences.js";
import { MAX_BODY_BYTES, readBounded, readJsonBody } from "../http/requestBody.js";
import { emptyResponse, jsonResponse } from "../http/responses.js";
import { absoluteUrl } from "../http/urls.js";
import { GUID } from "../ids.js";
import { systemResolver } from "../subscriptions/addressPolicy.js";
import { toSubscriptionRepresentation, type SubscriptionDocument } from "../subscriptions/model.js";
import { parseCreateSubscription, parseRenewal } from "../subscriptions/schema.js";
import {
  createSubscription as create,
  deleteSubscription as remove,
  getSubscription as get,
  listSubscriptions as list,
  reauthorizeSubscription as reauthorize,
  renewSubscription as renew,
  type SubscriptionServiceOptions,
} from "../subscriptions/service.js";
import { subscriptionStore, type SubscriptionStore } from "../store/subscriptions.js";

function store(api: CallerRequest): Promise<SubscriptionStore> {
  return subscriptionStore(api.config);
}

/** The service over this process's store, configuration and address policy, logging to this invocation. */
async function service(api: CallerRequest): Promise<SubscriptionServiceOptions> {
  const { subscriptions } = api.config;
  return {
    ...subscriptions,
    store: await store(api),
    policy: { allowLoopback: subscriptions.allowLoopback, resolve: systemResolver },
    signsValidationTokens: api.config.notificationSigning !== undefined,
    log: (message) => api.context.info(message),
  };
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

/** POST /subscriptions: 201 with the subscription, once the service has checked, validated and stored it. */
export async function createSubscription(api: CallerRequest): Promise<HttpResponseInit> {
  const { caller, config, wire } = api;
  const body = parseCreateSubscription(await readJsonBody(api.request), {
    maxLifetimeMinutes: config.subscriptions.maxLifetimeMinutes,
    allowLoopback: config.subscriptions.allowLoopback,
    delegated: caller.kind === "delegated",
  });
  const stored = await create(await service(api), caller, body, {
    serviceOrigin: wire.baseUrl,
    includeUnknownEnumMembers: wire.preferences.includeUnknownEnumMembers,
  });
  return jsonResponse(201, entity(stored, api), wire, {
    Location: absoluteUrl(wire, `/v1.0/subscriptions/${stored.id}`),
    ...(stored.includeUnknownEnumMembers ? preferenceApplied(["include-unknown-enum-members"]) : {}),
  });
}

/** GET /subscriptions: the caller's own live subscriptions. */
export async function listSubscriptions(api: CallerRequest): Promise<HttpResponseInit> {
  requirePermission(api.caller, "read");
  const documents = await list(await store(api), api.caller);
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
  const id = subscriptionIdFrom(api);
  const document = await get(await store(api), api.caller, id);
  return jsonResponse(200, entity(document, api), api.wire);
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
  const id = subscriptionIdFrom(api);
  const stored = await renew(await service(api), api.caller, id, renewal);
  return jsonResponse(200, entity(stored, api), api.wire);
}

/**
 * POST /subscriptions/{id}/reauthorize: Graph's answer to reauthorizationRequired without a new expiration; 204, as
 * in Graph. It takes no body (an empty JSON object is no body either).
 */
export async function reauthorizeSubscription(api: CallerRequest): Promise<HttpResponseInit> {
  await refuseBody(api);
  const id = subscriptionIdFrom(api);
  await reauthorize(await service(api), api.caller, id);
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
  const id = subscriptionIdFrom(api);
  await remove(await store(api), api.caller, id);
  return emptyResponse(204, api.wire);
}
