/**
 * The JSON Schemas of what clients may send to `/subscriptions`, Graph's
 * `microsoft.graph.subscription`: compiled ahead of time into
 * `validators.generated.ts` (`npm run validators`), as the operations' are.
 */

export const SUBSCRIPTION_LIMITS = {
  /** Graph's limit on clientState. */
  clientState: 128,
  url: 2048,
  resource: 512,
  /** Graph's limit on encryptionCertificateId. */
  encryptionCertificateId: 128,
  /** The base64 of a DER certificate: a 4,096-bit RSA certificate with many extensions is well under half of it. */
  encryptionCertificate: 16_384,
} as const;

export const SUBSCRIPTION_TYPE = "#microsoft.graph.subscription";

/** `created`, `updated`, `deleted`, comma-separated, each at most once (checked in code). */
export const CHANGE_TYPE_PATTERN = "^(created|updated|deleted)(,(created|updated|deleted)){0,2}$";

const dateTime = { type: "string", allOf: [{ format: "date-time" }, { format: "graph-date-time" }] } as const;

/** The subscriber's certificate and its own name for it: given at creation, replaced by a renewal. */
const encryptionCertificateProperties = {
  encryptionCertificate: {
    type: ["string", "null"],
    minLength: 1,
    maxLength: SUBSCRIPTION_LIMITS.encryptionCertificate,
  },
  encryptionCertificateId: {
    type: ["string", "null"],
    minLength: 1,
    maxLength: SUBSCRIPTION_LIMITS.encryptionCertificateId,
  },
} as const;

export const createSubscriptionSchema = {
  $id: "createSubscription",
  type: "object",
  additionalProperties: false,
  required: ["changeType", "notificationUrl", "resource", "expirationDateTime"],
  properties: {
    "@odata.type": { const: SUBSCRIPTION_TYPE },
    changeType: { type: "string", pattern: CHANGE_TYPE_PATTERN },
    notificationUrl: { type: "string", minLength: 1, maxLength: SUBSCRIPTION_LIMITS.url },
    lifecycleNotificationUrl: { type: ["string", "null"], minLength: 1, maxLength: SUBSCRIPTION_LIMITS.url },
    resource: { type: "string", minLength: 1, maxLength: SUBSCRIPTION_LIMITS.resource },
    expirationDateTime: dateTime,
    clientState: { type: ["string", "null"], maxLength: SUBSCRIPTION_LIMITS.clientState },
    // Rich notifications: the resource, encrypted for the certificate's key, in each notification.
    includeResourceData: { type: ["boolean", "null"] },
    ...encryptionCertificateProperties,
    latestSupportedTlsVersion: { enum: ["v1_2", "v1_3"] },
    // Graph's properties of features this API does not offer (NOT_OFFERED in schema.ts refuses a value by name):
    // query options on notifications, and the application whose tokens sign notifications. Their type is Graph's;
    // null is what not using them says.
    notificationQueryOptions: { type: ["string", "null"] },
    notificationUrlAppId: { type: ["string", "null"] },
  },
} as const;

/** A renewal: Graph lets a PATCH change the expiration, and with it the encryption certificate (a rotation). */
export const updateSubscriptionSchema = {
  $id: "updateSubscription",
  type: "object",
  additionalProperties: false,
  required: ["expirationDateTime"],
  properties: {
    "@odata.type": { const: SUBSCRIPTION_TYPE },
    expirationDateTime: dateTime,
    ...encryptionCertificateProperties,
  },
} as const;
