/**
 * Validation of what clients may send, with the schemas of `schemas.ts`
 * compiled ahead of time (`validators.generated.ts`), and the translation of
 * AJV's findings into error details that name each offending property (an
 * InvalidInputError, which the API answers as Graph's `invalidRequest`).
 * Nothing is coerced, defaulted or dropped here.
 */
import type { ErrorObject } from "ajv";
import type { FromSchema } from "json-schema-to-ts";
import { DetailCode, InvalidInputError, type ErrorDetail } from "../errors.js";
import { isEvolvableMember, OPERATION_STATUSES, OPERATION_TYPES, UNKNOWN_FUTURE_VALUE } from "./model.js";
import { type createOperationSchema, OPERATION_ID_PATTERN, type updateOperationSchema } from "./schemas.js";
import { toCanonicalUtc } from "./timestamps.js";
import { type CompiledValidator, validateCreateOperation, validateUpdateOperation } from "./validators.generated.js";

export { createOperationSchema, LIMITS, updateOperationSchema } from "./schemas.js";

export const OPERATION_ID = new RegExp(OPERATION_ID_PATTERN);

/** Properties that exist on the resource but that clients may not set. */
export const READ_ONLY_ON_CREATE: ReadonlySet<string> = new Set(["createdDateTime"]);
const READ_ONLY_ON_UPDATE = new Set(["id", "operationType", "createdDateTime"]);

/** A PATCH body as the update schema admits it (the type is the schema's, so the two cannot drift apart). */
export type UpdateOperationBody = FromSchema<typeof updateOperationSchema> & {
  /**
   * Read-only properties a PATCH sent back as it read them (read-modify-write): each must equal the stored
   * value, which the rules check (`rules.ts`). Not part of what the validators accept.
   */
  unchanged?: ReadOnlyValues;
};

/** The read-only properties a PATCH may carry with their current values. */
export interface ReadOnlyValues {
  id?: string;
  operationType?: string;
  createdDateTime?: string;
}

/** A create body as the create schema admits it: what an update may carry, plus the id and the type. */
export type CreateOperationBody = FromSchema<typeof createOperationSchema>;

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
    case "pattern":
      return {
        code: DetailCode.invalidValue,
        target: at,
        message:
          error.params.pattern === OPERATION_ID_PATTERN
            ? `The property '${at}' must be 1-128 letters, digits, '-', '_' or '.', starting with a letter or digit.`
            : `The property '${at}' must be a GUID.`,
      };
    case "format":
      return {
        code: DetailCode.invalidValue,
        target: at,
        message: `The property '${at}' must be an RFC 3339 date-time with an offset and at most seven fractional digits.`,
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

function isObject(body: unknown): body is Record<string, unknown> {
  return typeof body === "object" && body !== null && !Array.isArray(body);
}

function parseBody<T>(
  body: unknown,
  validate: CompiledValidator,
  readOnly: ReadonlySet<string>,
  includeUnknownEnumMembers: boolean,
  more: readonly ErrorDetail[] = [],
): T {
  if (!isObject(body)) throw new InvalidInputError("The request body must be a JSON object.");
  const details = validate(body) ? [] : toDetails(validate.errors, readOnly);
  details.push(...more);
  details.push(...evolvableMemberDetails(body, includeUnknownEnumMembers));
  if (details.length > 0) {
    const targets = details.map((d) => d.target).join(", ");
    throw new InvalidInputError(`The request body is not a valid teamsAsyncOperation: ${targets}.`, { details });
  }
  return body as T;
}

/** Validates a create body; throws an InvalidInputError naming every offending property. */
export function parseCreateBody(body: unknown, includeUnknownEnumMembers: boolean): CreateOperationBody {
  return parseBody<CreateOperationBody>(body, validateCreateOperation, READ_ONLY_ON_CREATE, includeUnknownEnumMembers);
}

/** Validates a PATCH body; throws an InvalidInputError naming every offending property. */
export function parseUpdateBody(body: unknown, includeUnknownEnumMembers: boolean): UpdateOperationBody {
  return parseBody<UpdateOperationBody>(body, validateUpdateOperation, READ_ONLY_ON_UPDATE, includeUnknownEnumMembers);
}

/**
 * Validates the body of an HTTP PATCH, which may be what the client read, changed and sent back (an SDK's
 * read-modify-write): instance annotations (`@odata.context`, `@odata.etag`, ...) are not properties and are
 * set aside (`@odata.type` is still checked); read-only properties are kept aside for the rules to compare with
 * the stored values; `unknownFutureValue` leaves its property unchanged, as Graph's evolvable-enum pattern says
 * of PATCH. Everything else is validated as `parseUpdateBody` does.
 */
export function parsePatchBody(body: unknown, includeUnknownEnumMembers: boolean): UpdateOperationBody {
  if (!isObject(body)) throw new InvalidInputError("The request body must be a JSON object.");
  const changes: Record<string, unknown> = {};
  const unchanged: Record<string, string> = {};
  const details: ErrorDetail[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith("@") && key !== "@odata.type") continue;
    if ((key === "status" || key === "operationType") && value === UNKNOWN_FUTURE_VALUE) continue;
    if (READ_ONLY_ON_UPDATE.has(key)) {
      if (typeof value !== "string") {
        details.push({ code: DetailCode.invalidType, target: key, message: `The property '${key}' must be string.` });
      } else if (key === "createdDateTime" && !toCanonicalUtc(value)) {
        details.push({
          code: DetailCode.invalidValue,
          target: key,
          message: `The property '${key}' must be an RFC 3339 date-time with an offset.`,
        });
      } else {
        unchanged[key] = value;
      }
      continue;
    }
    changes[key] = value;
  }
  details.push(...evolvableMemberDetails({ operationType: unchanged.operationType }, includeUnknownEnumMembers));
  const parsed = parseBody<UpdateOperationBody>(
    changes,
    validateUpdateOperation,
    READ_ONLY_ON_UPDATE,
    includeUnknownEnumMembers,
    details,
  );
  return Object.keys(unchanged).length > 0 ? { ...parsed, unchanged } : parsed;
}
