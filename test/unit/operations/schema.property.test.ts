/**
 * Properties of the request schemas: every valid body is accepted as it is
 * (nothing coerced, defaulted or dropped), and a body with one property made
 * wrong is refused with a detail naming exactly that property.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { graphErrorOf } from "../../../shared/http/errorMapping.js";
import { GraphError } from "../../../shared/http/graphError.js";
import { acceptedMembers, OPERATION_STATUSES, OPERATION_TYPES } from "../../../shared/operations/model.js";
import { newOperationDocument } from "../../../shared/operations/rules.js";
import { createOperationSchema, LIMITS, parseCreateBody, parseUpdateBody } from "../../../shared/operations/schema.js";
import { toCanonicalUtc } from "../../../shared/operations/timestamps.js";
import { createBody, updateBody } from "../../reliability/arbitraries.js";

function refusal(run: () => unknown): GraphError {
  try {
    run();
  } catch (thrown) {
    // What the API answers for the refusal.
    const error = graphErrorOf(thrown);
    expect(error).toBeInstanceOf(GraphError);
    return error as GraphError;
  }
  throw new Error("expected a 400");
}

const anyJson = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);

/** For each property, values that are wrong for it. */
const wrong: Record<string, fc.Arbitrary<unknown>> = {
  id: anyJson.filter((v) => typeof v !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(v)),
  operationType: anyJson.filter((v) => !(acceptedMembers(OPERATION_TYPES, false) as readonly unknown[]).includes(v)),
  status: anyJson.filter((v) => !(acceptedMembers(OPERATION_STATUSES, false) as readonly unknown[]).includes(v)),
  lastActionDateTime: anyJson.filter((v) => typeof v !== "string" || toCanonicalUtc(v) === undefined),
  attemptsCount: fc.oneof(
    fc.integer({ max: -1 }),
    fc.integer({ min: 1, max: LIMITS.attemptsCount }).map((n) => LIMITS.attemptsCount + n),
    fc.double({ noInteger: true }),
    anyJson.filter((v) => typeof v !== "number"),
  ),
  targetResourceId: fc.oneof(
    anyJson.filter((v) => v !== null && typeof v !== "string"),
    fc.string({ minLength: LIMITS.targetResourceId + 1, maxLength: LIMITS.targetResourceId + 5 }),
  ),
  targetResourceLocation: anyJson.filter((v) => v !== null && typeof v !== "string"),
  error: fc.oneof(
    anyJson.filter((v) => v !== null && (typeof v !== "object" || Array.isArray(v))),
    fc.record({ code: anyJson.filter((v) => v !== null && typeof v !== "string") }),
    fc.record({ code: fc.string({ minLength: LIMITS.errorCode + 1, maxLength: LIMITS.errorCode + 5 }) }),
    fc.record({ code: fc.string({ minLength: 1 }), message: fc.integer() }),
    fc.record({ codes: fc.string() }),
  ),
  "@odata.type": anyJson.filter((v) => v !== "#microsoft.graph.teamsAsyncOperation"),
};

const KNOWN = new Set([...Object.keys(createOperationSchema.properties), "createdDateTime", "__proto__"]);
const unknownName = fc.string({ minLength: 1, maxLength: 20 }).filter((n) => !KNOWN.has(n));

describe("create schema", () => {
  test.prop([createBody(false)])("accepts every valid body as it is", (body) => {
    const copy = structuredClone(body);
    expect(parseCreateBody(body, false)).toEqual(copy);
    expect(body).toEqual(copy);
  });

  const now = new Date("2026-11-28T19:14:46.165Z");
  test.prop([createBody(true)])("accepts evolvable members with the preference, and builds a document", (body) => {
    const parsed = parseCreateBody(body, true);
    const doc = newOperationDocument(parsed, {
      tenantId: "t",
      teamId: "team",
      createdBy: { kind: "application", objectId: undefined, appId: "a" },
      ttlSeconds: 60,
      now,
    });
    expect(doc.operationType).toBe(body.operationType);
    expect(doc.attemptsCount).toBe(body.attemptsCount ?? 0);
  });

  test.prop([
    createBody(false),
    fc.constantFrom(...Object.keys(wrong)).chain((p) => fc.tuple(fc.constant(p), wrong[p]!)),
  ])("refuses one wrong property, naming it", (body, [property, value]) => {
    const error = refusal(() => parseCreateBody({ ...body, [property]: value }, false));
    expect(error.status).toBe(400);
    const targets = error.details.map((d) => d.target);
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) expect(target === property || target!.startsWith(`${property}.`)).toBe(true);
  });

  test.prop([createBody(false), unknownName, anyJson])(
    "refuses an unknown property, naming it",
    (body, name, value) => {
      const error = refusal(() =>
        parseCreateBody(Object.defineProperty({ ...body }, name, { value, enumerable: true }), false),
      );
      expect(error.details).toEqual([expect.objectContaining({ code: "unknownProperty", target: name })]);
    },
  );

  test.prop([createBody(false), anyJson])("refuses createdDateTime as read-only", (body, value) => {
    const error = refusal(() => parseCreateBody({ ...body, createdDateTime: value }, false));
    expect(error.details).toEqual([expect.objectContaining({ code: "readOnlyProperty", target: "createdDateTime" })]);
  });

  test.prop([anyJson.filter((v) => typeof v !== "object" || v === null || Array.isArray(v))])(
    "refuses anything but an object",
    (value) => {
      expect(refusal(() => parseCreateBody(value, false)).status).toBe(400);
    },
  );
});

describe("update schema", () => {
  test.prop([updateBody()])("accepts every valid body as it is", (body) => {
    const copy = structuredClone(body);
    expect(parseUpdateBody(body, false)).toEqual(copy);
  });

  test.prop([updateBody(), fc.constantFrom("id", "operationType", "createdDateTime"), anyJson])(
    "refuses read-only properties, naming them",
    (body, property, value) => {
      const error = refusal(() => parseUpdateBody({ ...body, [property]: value }, false));
      expect(error.details).toEqual([expect.objectContaining({ code: "readOnlyProperty", target: property })]);
    },
  );

  const updatable = Object.keys(wrong).filter((p) => !["id", "operationType"].includes(p));
  test.prop([updateBody(), fc.constantFrom(...updatable).chain((p) => fc.tuple(fc.constant(p), wrong[p]!))])(
    "refuses one wrong property, naming it",
    (body, [property, value]) => {
      const error = refusal(() => parseUpdateBody({ ...body, [property]: value }, false));
      const targets = error.details.map((d) => d.target);
      expect(targets.length).toBeGreaterThan(0);
      for (const target of targets) expect(target === property || target!.startsWith(`${property}.`)).toBe(true);
    },
  );
});
