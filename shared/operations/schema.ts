/**
 * JSON Schemas of what clients may send, compiled once with AJV, and the
 * translation of AJV's findings into Graph error details that name each
 * offending property. Nothing is coerced, defaulted or dropped here.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { badRequest, DetailCode, type ErrorDetail } from "../http/graphError.js";
import {
  acceptedMembers,
  ENTITY_TYPE,
  isEvolvableMember,
  OPERATION_STATUSES,
  OPERATION_TYPES,
  type OperationStatus,
  type OperationType,
} from "./model.js";
import { toCanonicalUtc } from "./timestamps.js";

/** A client-supplied id: letters, digits, `-`, `_`, `.`; starts with a letter or digit; at most 128 characters. */
export const OPERATION_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$";
export const OPERATION_ID = new RegExp(OPERATION_ID_PATTERN);

export const LIMITS = {
  targetResourceId: 1024,
  targetResourceLocation: 2048,
  errorCode: 256,
  errorMessage: 4096,
  attemptsCount: 2_147_483_647,
} as const;

/** Properties that exist on the resource but that clients may not set. */
const READ_ONLY_ON_CREATE = new Set(["createdDateTime"]);
const READ_ONLY_ON_UPDATE = new Set(["id", "operationType", "createdDateTime"]);

/**
 * RFC 3339 (ajv-formats) and, on top, a real instant that Graph's
 * DateTimeOffset can hold: at most seven fractional digits, no leap second,
 * years 0001-9999 once converted to UTC.
 */
const dateTime = { type: "string", allOf: [{ format: "date-time" }, { format: "graph-date-time" }] } as const;

const nullableString = (maxLength: number) => ({ type: ["string", "null"], maxLength }) as const;

const operationError = {
  type: ["object", "null"],
  additionalProperties: false,
  required: ["code"],
  properties: {
    "@odata.type": { enum: ["microsoft.graph.operationError", "#microsoft.graph.operationError"] },
    code: { type: "string", minLength: 1, maxLength: LIMITS.errorCode },
    message: nullableString(LIMITS.errorMessage),
  },
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
    attemptsCount: { type: "integer", minimum: 0, maximum: LIMITS.attemptsCount },
    targetResourceId: nullableString(LIMITS.targetResourceId),
    targetResourceLocation: nullableString(LIMITS.targetResourceLocation),
    error: operationError,
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
    attemptsCount: createOperationSchema.properties.attemptsCount,
    targetResourceId: createOperationSchema.properties.targetResourceId,
    targetResourceLocation: createOperationSchema.properties.targetResourceLocation,
    error: operationError,
  },
} as const;

export interface UpdateOperationBody {
  "@odata.type"?: string;
  status?: OperationStatus;
  lastActionDateTime?: string;
  attemptsCount?: number;
  targetResourceId?: string | null;
  targetResourceLocation?: string | null;
  error?: { code: string; message?: string | null } | null;
}

/** A create body: what an update may carry, plus the id and the type, which are fixed once created. */
export interface CreateOperationBody extends UpdateOperationBody {
  id?: string;
  operationType: OperationType;
}

// ajv-formats is published as CommonJS with a default export.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const ajv = new Ajv({ allErrors: true, strict: true, coerceTypes: false, useDefaults: false });
addFormats(ajv, ["date-time"]);
ajv.addFormat("graph-date-time", { type: "string", validate: (value: string) => toCanonicalUtc(value) !== undefined });
const validateCreate: ValidateFunction<CreateOperationBody> = ajv.compile(createOperationSchema);

/** Compiles another schema with the same AJV instance and formats (queue messages use it). */
export function compileSchema<T>(schema: object): ValidateFunction<T> {
  return ajv.compile<T>(schema);
}
const validateUpdate: ValidateFunction<UpdateOperationBody> = ajv.compile(updateOperationSchema);

function pointerToTarget(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");
}

function join(parent: string, child: string): string {
  return parent ? `${parent}.${child}` : child;
}

function describe(error: ErrorObject, readOnly: ReadonlySet<string>): ErrorDetail {
  const at = pointerToTarget(error.instancePath);
  switch (error.keyword) {
    case "additionalProperties": {
      const name = String(error.params.additionalProperty);
      const target = join(at, name);
      return readOnly.has(target)
        ? { code: DetailCode.readOnlyProperty, target, message: `The property '${target}' is read-only.` }
        : {
            code: DetailCode.unknownProperty,
            target,
            message: `The property '${target}' does not exist on this type.`,
          };
    }
    case "required": {
      const target = join(at, String(error.params.missingProperty));
      return { code: DetailCode.requiredProperty, target, message: `The property '${target}' is required.` };
    }
    case "type":
      return {
        code: DetailCode.invalidType,
        target: at,
        message: `The property '${at}' must be ${error.params.type}.`,
      };
    case "enum":
      return {
        code: DetailCode.invalidValue,
        target: at,
        message: `The property '${at}' must be one of: ${(error.params.allowedValues as string[]).join(", ")}.`,
      };
    case "const":
      return {
        code: DetailCode.invalidValue,
        target: at,
        message: `The property '${at}' must be '${error.params.allowedValue}'.`,
      };
    case "format":
    case "pattern":
      return {
        code: DetailCode.invalidValue,
        target: at,
        message:
          at === "id"
            ? `The property 'id' must be 1-128 letters, digits, '-', '_' or '.', starting with a letter or digit.`
            : `The property '${at}' must be an RFC 3339 date-time with an offset and at most seven fractional digits.`,
      };
    default:
      return {
        code: DetailCode.invalidValue,
        target: at,
        message: `The property '${at}' ${error.message ?? "is invalid"}.`,
      };
  }
}

/** One detail per offending property, in the order AJV found them. */
export function toDetails(
  errors: readonly ErrorObject[] | null | undefined,
  readOnly: ReadonlySet<string>,
): ErrorDetail[] {
  const seen = new Set<string>();
  const details: ErrorDetail[] = [];
  for (const error of errors ?? []) {
    const detail = describe(error, readOnly);
    const key = `${detail.target}|${detail.code}`;
    if (seen.has(detail.target ?? "") || seen.has(key)) continue;
    seen.add(detail.target ?? "");
    seen.add(key);
    details.push(detail);
  }
  return details;
}

/** Refuses evolvable enum members unless the client opted in with `Prefer: include-unknown-enum-members`. */
export function evolvableMemberDetails(
  values: Readonly<Record<string, unknown>>,
  includeUnknownEnumMembers: boolean,
): ErrorDetail[] {
  if (includeUnknownEnumMembers) return [];
  const details: ErrorDetail[] = [];
  const check = (property: string, members: readonly string[]) => {
    const value = values[property];
    if (typeof value === "string" && isEvolvableMember(members, value)) {
      details.push({
        code: DetailCode.invalidValue,
        target: property,
        message: `The value '${value}' of '${property}' needs the request header 'Prefer: include-unknown-enum-members'.`,
      });
    }
  };
  check("operationType", OPERATION_TYPES);
  check("status", OPERATION_STATUSES);
  return details;
}

function parseBody<T>(
  body: unknown,
  validate: ValidateFunction<T>,
  readOnly: ReadonlySet<string>,
  includeUnknownEnumMembers: boolean,
): T {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest("The request body must be a JSON object.");
  }
  const details = validate(body) ? [] : toDetails(validate.errors, readOnly);
  details.push(...evolvableMemberDetails(body as Record<string, unknown>, includeUnknownEnumMembers));
  if (details.length > 0) {
    const targets = details.map((d) => d.target).join(", ");
    throw badRequest(`The request body is not a valid teamsAsyncOperation: ${targets}.`, { details });
  }
  return body as T;
}

/** Validates a create body; throws a 400 Graph error naming every offending property. */
export function parseCreateBody(body: unknown, includeUnknownEnumMembers: boolean): CreateOperationBody {
  return parseBody(body, validateCreate, READ_ONLY_ON_CREATE, includeUnknownEnumMembers);
}

/** Validates a PATCH body; throws a 400 Graph error naming every offending property. */
export function parseUpdateBody(body: unknown, includeUnknownEnumMembers: boolean): UpdateOperationBody {
  return parseBody(body, validateUpdate, READ_ONLY_ON_UPDATE, includeUnknownEnumMembers);
}
