/**
 * JSON Schemas of what clients may send: plain data, imported by `schema.ts`
 * and by the generator that compiles them ahead of time
 * (`scripts/compile-validators.js`), which must not load the generated module.
 */
import {
  acceptedMembers,
  ENTITY_TYPE,
  OPERATION_STATUSES,
  OPERATION_TYPES,
  REPRESENTATION_PROPERTIES,
} from "./model.js";

/** A client-supplied id: letters, digits, `-`, `_`, `.`; starts with a letter or digit; at most 128 characters. */
export const OPERATION_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$";

export const LIMITS = {
  targetResourceId: 1024,
  targetResourceLocation: 2048,
  errorCode: 256,
  errorMessage: 4096,
  attemptsCount: 2_147_483_647,
} as const;

/**
 * RFC 3339 (ajv-formats) and, on top, a real instant that Graph's
 * DateTimeOffset can hold: at most seven fractional digits, no leap second,
 * years 0001-9999 once converted to UTC (the formats are in `formats.ts`).
 */
const dateTime = { type: "string", allOf: [{ format: "date-time" }, { format: "graph-date-time" }] } as const;

const nullableString = (maxLength: number) => ({ type: ["string", "null"], maxLength }) as const;

/** Graph's operationError: both properties nullable, as its metadata declares them. */
const operationError = {
  type: ["object", "null"],
  additionalProperties: false,
  properties: {
    "@odata.type": { enum: ["microsoft.graph.operationError", "#microsoft.graph.operationError"] },
    code: nullableString(LIMITS.errorCode),
    message: nullableString(LIMITS.errorMessage),
  },
} as const;

/** The properties after the status and lastActionDateTime: the same on create, on update and in a response. */
const progress = {
  attemptsCount: { type: "integer", minimum: 0, maximum: LIMITS.attemptsCount },
  targetResourceId: nullableString(LIMITS.targetResourceId),
  targetResourceLocation: nullableString(LIMITS.targetResourceLocation),
  error: operationError,
} as const;

export const createOperationSchema = {
  $id: "createOperation",
  type: "object",
  additionalProperties: false,
  required: ["operationType"],
  properties: {
    "@odata.type": { const: ENTITY_TYPE },
    id: { type: "string", pattern: OPERATION_ID_PATTERN },
    operationType: { type: "string", enum: acceptedMembers(OPERATION_TYPES, true) },
    status: { type: "string", enum: acceptedMembers(OPERATION_STATUSES, true) },
    lastActionDateTime: dateTime,
    ...progress,
  },
} as const;

/** What PATCH may change. `id`, `operationType` and `createdDateTime` are read-only once created. */
export const updateOperationSchema = {
  $id: "updateOperation",
  type: "object",
  additionalProperties: false,
  properties: {
    "@odata.type": { const: ENTITY_TYPE },
    status: createOperationSchema.properties.status,
    lastActionDateTime: dateTime,
    ...progress,
  },
} as const;

/**
 * What a response carries: every property, always present (null where nullable), with every enum member.
 * Not a validator: the CSDL (`$metadata`) and the OpenAPI description are generated from it and from the
 * two schemas above, which say what clients may set on create and on update (what neither lists is computed
 * by the server; what only create lists is immutable).
 */
export const representationSchema = {
  $id: "teamsAsyncOperation",
  type: "object",
  required: REPRESENTATION_PROPERTIES,
  properties: {
    id: { type: "string", maxLength: 128 },
    operationType: { type: "string", enum: OPERATION_TYPES },
    createdDateTime: dateTime,
    status: { type: "string", enum: OPERATION_STATUSES },
    lastActionDateTime: dateTime,
    ...progress,
  },
} as const;
