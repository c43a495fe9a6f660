/**
 * The body types are derived from the JSON Schemas (json-schema-to-ts), so they say what the validators accept:
 * checked by `npm run typecheck` (expectTypeOf), and at run time against bodies the validators accept.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  REPRESENTATION_PROPERTIES,
  type OperationStatus,
  type OperationType,
} from "../../../shared/operations/model.js";
import {
  parseCreateBody,
  parseUpdateBody,
  type CreateOperationBody,
  type UpdateOperationBody,
} from "../../../shared/operations/schema.js";
import { createOperationSchema, updateOperationSchema } from "../../../shared/operations/schemas.js";
import { parseCreateSubscription, type CreateSubscriptionBody } from "../../../shared/subscriptions/schema.js";
import { createSubscriptionSchema } from "../../../shared/subscriptions/schemas.js";

type OperationError = {
  "@odata.type"?: "microsoft.graph.operationError" | "#microsoft.graph.operationError";
  code?: string | null;
  message?: string | null;
} | null;

describe("the operation body types", () => {
  it("are the create and update schemas' own", () => {
    expectTypeOf<CreateOperationBody>().toEqualTypeOf<{
      "@odata.type"?: "#microsoft.graph.teamsAsyncOperation";
      id?: string;
      operationType: Exclude<OperationType, "unknownFutureValue">;
      status?: Exclude<OperationStatus, "unknownFutureValue">;
      lastActionDateTime?: string;
      attemptsCount?: number;
      targetResourceId?: string | null;
      targetResourceLocation?: string | null;
      error?: OperationError;
    }>();
    expectTypeOf<Omit<UpdateOperationBody, "unchanged">>().toEqualTypeOf<
      Omit<CreateOperationBody, "id" | "operationType">
    >();
  });

  it("name exactly the properties the schemas list", () => {
    // What a client may set: every property of the representation but the server's createdDateTime.
    const create: Array<keyof CreateOperationBody> = [
      "@odata.type",
      ...REPRESENTATION_PROPERTIES.filter((p) => p !== "createdDateTime"),
    ];
    expect(Object.keys(createOperationSchema.properties)).toEqual(create);
    const update = create.filter((k) => k !== "id" && k !== "operationType");
    expect(Object.keys(updateOperationSchema.properties)).toEqual(update);
  });

  it("describe what the validators return", () => {
    const body: CreateOperationBody = parseCreateBody(
      { operationType: "teamifyGroup", status: "inProgress", error: { code: "x", message: null } },
      true,
    );
    expect(body.operationType).toBe("teamifyGroup");
    const changes: UpdateOperationBody = parseUpdateBody({ attemptsCount: 2, targetResourceId: null }, false);
    expect(changes).toEqual({ attemptsCount: 2, targetResourceId: null });
  });
});

describe("the subscription body type", () => {
  it("is the create schema's own", () => {
    expectTypeOf<CreateSubscriptionBody>().toEqualTypeOf<{
      "@odata.type"?: "#microsoft.graph.subscription";
      changeType: string;
      notificationUrl: string;
      lifecycleNotificationUrl?: string | null;
      resource: string;
      expirationDateTime: string;
      clientState?: string | null;
      latestSupportedTlsVersion?: "v1_2" | "v1_3";
      includeResourceData?: boolean | null;
      encryptionCertificate?: string | null;
      encryptionCertificateId?: string | null;
      notificationQueryOptions?: string | null;
      notificationUrlAppId?: string | null;
    }>();
    expect(Object.keys(createSubscriptionSchema.properties)).toContain("latestSupportedTlsVersion");
  });

  it("gives the parsed request its defaults", () => {
    const request = parseCreateSubscription(
      {
        changeType: "updated",
        notificationUrl: "https://receiver.contoso.com/hook",
        resource: "teams/3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f/operations",
        expirationDateTime: new Date(Date.now() + 3_600_000).toISOString(),
      },
      { maxLifetimeMinutes: 4230, allowLoopback: false },
    );
    expect(request.latestSupportedTlsVersion).toBe("v1_2");
    expect(request.clientState).toBeNull();
    expect(request.lifecycleNotificationUrl).toBeNull();
  });
});
