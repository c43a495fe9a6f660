/**
 * Validation of subscription bodies with the validators compiled from
 * `schemas.ts`, and the rules JSON Schema cannot say: each change type once,
 * a resource this API serves, an expiration in the future and within the
 * maximum lifetime, URLs of an allowed form. Every refusal names its property.
 */
import type { FromSchema } from "json-schema-to-ts";
import { DetailCode, InvalidInputError, UnsupportedError, type ErrorDetail } from "../errors.js";
import { toDetails } from "../operations/schema.js";
import { toCanonicalUtc } from "../operations/timestamps.js";
import { checkUrlForm, RefusedTarget } from "./addressPolicy.js";
import { CertificateRefused, checkEncryptionCertificate } from "./certificate.js";
import { parseResource, type ChangeType, type SubscribedResource, type SubscriptionDocument } from "./model.js";
import type { createSubscriptionSchema, updateSubscriptionSchema } from "./schemas.js";
import { validateCreateSubscription, validateUpdateSubscription } from "./validators.generated.js";

const READ_ONLY = new Set(["id", "applicationId", "creatorId"]);

/**
 * Graph's subscription properties for features this API does not offer: a client may send each only as not using
 * it (null, or not at all); a value that asks for the feature is refused by name as `notSupported`.
 */
const NOT_OFFERED: Readonly<Record<string, { readonly unused: unknown; readonly why: string }>> = {
  notificationQueryOptions: { unused: null, why: "Query options on notifications are not offered." },
  notificationUrlAppId: {
    unused: null,
    why: "notificationUrlAppId is not offered: validation tokens are issued for the application that subscribed.",
  },
};

/** The not-offered features a valid body asks for, one detail each. */
function notOffered(body: Readonly<Record<string, unknown>>): ErrorDetail[] {
  return Object.entries(NOT_OFFERED)
    .filter(([name, { unused }]) => body[name] !== undefined && body[name] !== null && body[name] !== unused)
    .map(([name, { why }]) => ({ code: DetailCode.notSupported, target: name, message: why }));
}

/** A create body as the create schema admits it (the type is the schema's, so the two cannot drift apart). */
export type CreateSubscriptionBody = FromSchema<typeof createSubscriptionSchema>;

/** A renewal body as the update schema admits it. */
export type RenewalBody = FromSchema<typeof updateSubscriptionSchema>;

/** A create body read: its change types split, its resource parsed, its expiration canonical, its defaults filled. */
export interface SubscriptionRequest {
  readonly changeTypes: ChangeType[];
  readonly notificationUrl: CreateSubscriptionBody["notificationUrl"];
  readonly lifecycleNotificationUrl: NonNullable<CreateSubscriptionBody["lifecycleNotificationUrl"]> | null;
  readonly resource: CreateSubscriptionBody["resource"];
  readonly target: SubscribedResource;
  /** Canonical UTC. */
  readonly expirationDateTime: string;
  readonly clientState: NonNullable<CreateSubscriptionBody["clientState"]> | null;
  readonly latestSupportedTlsVersion: NonNullable<CreateSubscriptionBody["latestSupportedTlsVersion"]>;
  readonly includeResourceData: boolean;
  readonly encryptionCertificate: string | null;
  readonly encryptionCertificateId: string | null;
}

/**
 * Graph's rule for subscriptions with resource data: one that lives longer than this without a
 * lifecycleNotificationUrl is refused (its subscriber would not hear of a reauthorization or a missed batch).
 */
export const RESOURCE_DATA_WITHOUT_LIFECYCLE_MINUTES = 60;

/** The properties of a subscription with resource data that a create sets and a renewal may change. */
type ResourceDataFields = Pick<
  SubscriptionDocument,
  "includeResourceData" | "encryptionCertificate" | "encryptionCertificateId" | "lifecycleNotificationUrl"
>;

export interface LifetimeRules {
  readonly maxLifetimeMinutes: number;
  readonly allowLoopback: boolean;
  readonly now?: number;
}

function isObject(body: unknown): body is Record<string, unknown> {
  return typeof body === "object" && body !== null && !Array.isArray(body);
}

function refuse(details: readonly ErrorDetail[]): never {
  throw new InvalidInputError(
    `The request body is not a valid subscription: ${details.map((d) => d.target).join(", ")}.`,
    {
      details,
    },
  );
}

const invalid = (target: string, message: string): ErrorDetail => ({ code: DetailCode.invalidValue, target, message });
const required = (target: string, message: string): ErrorDetail => ({
  code: DetailCode.requiredProperty,
  target,
  message,
});

/**
 * What resource data asks beside the rest: a certificate with a usable RSA key and its id, and a lifecycle URL for a
 * subscription that lives more than an hour. A certificate sent without includeResourceData is checked too: it is
 * kept, and a renewal may not turn it into one that cannot be used.
 */
function resourceDataDetails(fields: ResourceDataFields, expirationDateTime: string | undefined, now: number) {
  const details: ErrorDetail[] = [];
  if (fields.includeResourceData && !fields.encryptionCertificate) {
    details.push(
      required("encryptionCertificate", "A subscription with includeResourceData needs an encryptionCertificate."),
    );
  }
  if (fields.includeResourceData && !fields.encryptionCertificateId) {
    details.push(
      required("encryptionCertificateId", "A subscription with includeResourceData needs an encryptionCertificateId."),
    );
  }
  if (fields.encryptionCertificate) {
    try {
      checkEncryptionCertificate(fields.encryptionCertificate, now);
    } catch (error) {
      if (!(error instanceof CertificateRefused)) throw error;
      details.push(invalid("encryptionCertificate", error.message));
    }
  }
  const longest = now + RESOURCE_DATA_WITHOUT_LIFECYCLE_MINUTES * 60_000;
  if (
    fields.includeResourceData &&
    fields.lifecycleNotificationUrl === null &&
    expirationDateTime !== undefined &&
    Date.parse(expirationDateTime) > longest
  ) {
    details.push(
      required(
        "lifecycleNotificationUrl",
        `lifecycleNotificationUrl is a required property for a subscription with resource data when the expirationDateTime is more than ${RESOURCE_DATA_WITHOUT_LIFECYCLE_MINUTES} minutes away.`,
      ),
    );
  }
  return details;
}

/** The expiration as canonical UTC, or a detail saying why it cannot be used. */
function expirationDetail(value: string, rules: LifetimeRules): { at?: string; detail?: ErrorDetail } {
  const at = toCanonicalUtc(value);
  const now = rules.now ?? Date.now();
  if (!at) return { detail: invalid("expirationDateTime", "Not a date-time.") };
  if (Date.parse(at) <= now) {
    return { detail: invalid("expirationDateTime", "The expirationDateTime must be in the future.") };
  }
  if (Date.parse(at) > now + rules.maxLifetimeMinutes * 60_000) {
    return {
      detail: invalid(
        "expirationDateTime",
        `Subscription expiration can only be ${rules.maxLifetimeMinutes} minutes in the future (the maximum lifetime of a subscription to operations).`,
      ),
    };
  }
  return { at };
}

function urlDetail(property: string, value: string, rules: LifetimeRules): ErrorDetail | undefined {
  try {
    checkUrlForm(value, rules);
    return undefined;
  } catch (error) {
    if (error instanceof RefusedTarget) return invalid(property, `The ${property} cannot be used: ${error.message}.`);
    throw error;
  }
}

export function parseCreateSubscription(body: unknown, rules: LifetimeRules): SubscriptionRequest {
  if (!isObject(body)) throw new InvalidInputError("The request body must be a JSON object.");
  // Instance annotations other than @odata.type are not properties (an SDK may send them).
  const fields = Object.fromEntries(Object.entries(body).filter(([k]) => !k.startsWith("@") || k === "@odata.type"));
  const details = validateCreateSubscription(fields)
    ? []
    : toDetails(validateCreateSubscription.errors, READ_ONLY).map((d) =>
        d.target === "changeType" && d.code === DetailCode.invalidValue
          ? { ...d, message: "The changeType must be created, updated or deleted, or several of them comma-separated." }
          : d,
      );
  if (details.length > 0) refuse(details);
  const unsupported = notOffered(fields);
  if (unsupported.length > 0) {
    throw new UnsupportedError(`Not offered: ${unsupported.map((d) => d.target).join(", ")}.`, {
      target: unsupported[0]!.target,
      details: unsupported,
    });
  }
  const admitted = fields as CreateSubscriptionBody;
  const changeTypes = admitted.changeType.split(",") as ChangeType[];
  if (new Set(changeTypes).size !== changeTypes.length) {
    details.push(invalid("changeType", "Each change type may appear once."));
  }
  const resource = admitted.resource;
  const target = parseResource(resource);
  if (!target) {
    details.push(
      invalid(
        "resource",
        "The resource must be teams/{teamId}/operations or teams/{teamId}/operations/{operationId} (or the same under me/joinedTeams/{teamId}, groups/{groupId}/team or users/{userId}/joinedTeams/{teamId}).",
      ),
    );
  }
  const expiration = expirationDetail(admitted.expirationDateTime, rules);
  if (expiration.detail) details.push(expiration.detail);
  const notificationUrl = admitted.notificationUrl;
  const lifecycleNotificationUrl = admitted.lifecycleNotificationUrl ?? null;
  const urlDetails = [
    urlDetail("notificationUrl", notificationUrl, rules),
    lifecycleNotificationUrl === null
      ? undefined
      : urlDetail("lifecycleNotificationUrl", lifecycleNotificationUrl, rules),
  ];
  for (const d of urlDetails) if (d) details.push(d);
  const resourceData: ResourceDataFields = {
    includeResourceData: admitted.includeResourceData ?? false,
    encryptionCertificate: admitted.encryptionCertificate ?? null,
    encryptionCertificateId: admitted.encryptionCertificateId ?? null,
    lifecycleNotificationUrl,
  };
  details.push(...resourceDataDetails(resourceData, expiration.at, rules.now ?? Date.now()));
  if (details.length > 0) refuse(details);
  return {
    changeTypes,
    notificationUrl,
    lifecycleNotificationUrl,
    resource,
    target: target!,
    expirationDateTime: expiration.at!,
    clientState: admitted.clientState ?? null,
    latestSupportedTlsVersion: admitted.latestSupportedTlsVersion ?? "v1_2",
    includeResourceData: resourceData.includeResourceData ?? false,
    encryptionCertificate: resourceData.encryptionCertificate ?? null,
    encryptionCertificateId: resourceData.encryptionCertificateId ?? null,
  };
}

/** A renewal body read: the new expiration (canonical UTC) and, when given, a replacement certificate or its id. */
export interface Renewal {
  readonly expirationDateTime: string;
  readonly encryptionCertificate?: string | null;
  readonly encryptionCertificateId?: string | null;
}

/** A renewal body, checked on its own: its form and the new expiration. */
export function parseRenewal(body: unknown, rules: LifetimeRules): Renewal {
  if (!isObject(body)) throw new InvalidInputError("The request body must be a JSON object.");
  const fields = Object.fromEntries(Object.entries(body).filter(([k]) => !k.startsWith("@") || k === "@odata.type"));
  if (!validateUpdateSubscription(fields)) {
    const details = toDetails(validateUpdateSubscription.errors, READ_ONLY).map((d) =>
      d.code === DetailCode.unknownProperty || d.code === DetailCode.readOnlyProperty
        ? {
            ...d,
            message: `Only expirationDateTime, encryptionCertificate and encryptionCertificateId can be changed; '${d.target}' cannot.`,
          }
        : d,
    );
    refuse(details);
  }
  const admitted = fields as RenewalBody;
  const expiration = expirationDetail(admitted.expirationDateTime, rules);
  if (expiration.detail) refuse([expiration.detail]);
  return {
    expirationDateTime: expiration.at!,
    ...("encryptionCertificate" in admitted ? { encryptionCertificate: admitted.encryptionCertificate } : {}),
    ...("encryptionCertificateId" in admitted ? { encryptionCertificateId: admitted.encryptionCertificateId } : {}),
  };
}

/**
 * The subscription a renewal makes of this one: the new expiration and any replaced certificate, with the rules of
 * resource data checked again (the certificate, current or replaced, must still be usable, and a subscription
 * without a lifecycle URL may be renewed for an hour at most).
 */
export function renewed(document: SubscriptionDocument, renewal: Renewal, now = Date.now()): SubscriptionDocument {
  const next: SubscriptionDocument = {
    ...document,
    expirationDateTime: renewal.expirationDateTime,
    ...(renewal.encryptionCertificate !== undefined ? { encryptionCertificate: renewal.encryptionCertificate } : {}),
    ...(renewal.encryptionCertificateId !== undefined
      ? { encryptionCertificateId: renewal.encryptionCertificateId }
      : {}),
  };
  const details = resourceDataDetails(
    {
      includeResourceData: next.includeResourceData ?? false,
      encryptionCertificate: next.encryptionCertificate ?? null,
      encryptionCertificateId: next.encryptionCertificateId ?? null,
      lifecycleNotificationUrl: next.lifecycleNotificationUrl,
    },
    next.expirationDateTime,
    now,
  ).map((d) =>
    d.target === "lifecycleNotificationUrl"
      ? invalid(
          "expirationDateTime",
          `A subscription with resource data and no lifecycleNotificationUrl can be renewed for at most ${RESOURCE_DATA_WITHOUT_LIFECYCLE_MINUTES} minutes.`,
        )
      : d,
  );
  if (details.length > 0) refuse(details);
  return next;
}
