/** The OpenAPI parts of the subscription routes, from the same schemas the validators are compiled from. */
import { toOpenApiSchema } from "../http/openapi.js";
import { createSubscriptionSchema, updateSubscriptionSchema } from "./schemas.js";

const error = { $ref: "#/components/responses/error" };
const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [String(s), error]));

const subscription = {
  type: "object",
  properties: {
    "@odata.context": { type: "string" },
    id: { type: "string" },
    resource: { type: "string" },
    applicationId: { type: "string", nullable: true },
    changeType: { type: "string" },
    clientState: { type: "string", nullable: true },
    notificationUrl: { type: "string" },
    notificationQueryOptions: { type: "string", nullable: true },
    lifecycleNotificationUrl: { type: "string", nullable: true },
    expirationDateTime: { type: "string", format: "date-time" },
    creatorId: { type: "string" },
    includeResourceData: { type: "boolean" },
    latestSupportedTlsVersion: { type: "string" },
    encryptionCertificate: { type: "string", nullable: true },
    encryptionCertificateId: { type: "string", nullable: true },
    notificationUrlAppId: { type: "string", nullable: true },
  },
};

const json = (schema: unknown) => ({ "application/json": { schema } });
const body = (schema: unknown) => ({ required: true, content: json(toOpenApiSchema(schema)) });

export const SUBSCRIPTION_OPENAPI = {
  create: {
    operationId: "subscriptions.subscription.CreateSubscription",
    tags: ["subscriptions"],
    requestBody: body(createSubscriptionSchema),
    responses: {
      "201": { description: "Created, after the validation handshake.", content: json(subscription) },
      ...errors(400, 401, 403, 413, 415, 429, 503),
    },
  },
  list: {
    operationId: "subscriptions.subscription.ListSubscription",
    tags: ["subscriptions"],
    responses: {
      "200": {
        description: "The caller's own subscriptions.",
        content: json({ type: "object", properties: { value: { type: "array", items: subscription } } }),
      },
      ...errors(401, 403, 429, 503),
    },
  },
  get: {
    operationId: "subscriptions.subscription.GetSubscription",
    tags: ["subscriptions"],
    responses: {
      "200": { description: "The subscription.", content: json(subscription) },
      ...errors(400, 401, 403, 404),
    },
  },
  update: {
    operationId: "subscriptions.subscription.UpdateSubscription",
    tags: ["subscriptions"],
    requestBody: body(updateSubscriptionSchema),
    responses: {
      "200": { description: "Renewed.", content: json(subscription) },
      ...errors(400, 401, 403, 404, 412, 413, 415),
    },
  },
  delete: {
    operationId: "subscriptions.subscription.DeleteSubscription",
    tags: ["subscriptions"],
    responses: { "204": { description: "Deleted." }, ...errors(400, 401, 403, 404) },
  },
  reauthorize: {
    operationId: "subscriptions.subscription.reauthorize",
    tags: ["subscriptions"],
    responses: {
      "204": { description: "Reauthorized: the caller's access was checked now." },
      ...errors(400, 401, 403, 404, 429, 503),
    },
  },
} as const;
