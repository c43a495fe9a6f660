import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fc, test as property } from "@fast-check/vitest";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { describe, expect, it } from "vitest";
import {
  COMMAND,
  exportName,
  FORMAT_NAMES,
  GENERATED_FILE,
  validatorsModuleSource,
} from "../../../scripts/compile-validators.js";
import { createMessageSchema, updateMessageSchema } from "../../../shared/events/envelopeSchemas.js";
import { formats } from "../../../shared/operations/formats.js";
import { createOperationSchema, LIMITS, updateOperationSchema } from "../../../shared/operations/schemas.js";
import { toCanonicalUtc } from "../../../shared/operations/timestamps.js";
import * as generated from "../../../shared/operations/validators.generated.js";
import { createBody, dateTime, updateBody } from "../../reliability/arbitraries.js";
import { PROJECT_ROOT } from "../../support/stack.js";
import { SEED_BODY } from "../../support/seed.js";

/** What scripts/compile-validators.js compiles, in its order. */
const SCHEMAS = [createOperationSchema, updateOperationSchema, createMessageSchema, updateMessageSchema];

describe("the generated validators", () => {
  it(`are what the schemas generate (after a schema change, run ${COMMAND})`, () => {
    const committed = readFileSync(join(PROJECT_ROOT, GENERATED_FILE), "utf8");
    // A boolean, not toBe: the file is one long line, and the message says what to do.
    expect(validatorsModuleSource(SCHEMAS) === committed, `${GENERATED_FILE} is out of date: run ${COMMAND}`).toBe(
      true,
    );
  });

  it("find every format they call, with the shape they were compiled for", () => {
    expect(Object.keys(formats)).toEqual(FORMAT_NAMES);
    for (const format of Object.values(formats)) {
      expect(format).toEqual(expect.objectContaining({ validate: expect.any(Function) }));
      expect(format).not.toHaveProperty("async");
    }
  });
});

// The reference: compiled at run time exactly as shared/operations/schema.ts did before.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const ajv = new Ajv({ allErrors: true, strict: true, coerceTypes: false, useDefaults: false });
addFormats(ajv, ["date-time"]);
ajv.addFormat("graph-date-time", { type: "string", validate: (value: string) => toCanonicalUtc(value) !== undefined });
const pairs = SCHEMAS.map((schema) => ({
  name: exportName(schema.$id),
  compiled: generated[exportName(schema.$id) as keyof typeof generated],
  runtime: ajv.compile(schema),
}));

/** Every validator gives the same answer and the same errors, in the same order, as its reference. */
function expectSameVerdicts(data: unknown): void {
  for (const { name, compiled, runtime } of pairs) {
    const valid = compiled(data);
    expect({ name, valid, errors: compiled.errors }).toEqual({ name, valid: runtime(data), errors: runtime.errors });
  }
}

const GUID = "3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f";
const astral = (n: number) => "\u{1F600}".repeat(n);
const seed = SEED_BODY;
const at = (lastActionDateTime: unknown) => ({ operationType: "cloneTeam", lastActionDateTime });
const createMessage = { action: "create", tenantId: GUID, teamId: GUID, operation: {} };
const updateMessage = { action: "update", tenantId: GUID, teamId: GUID, operationId: "op-1", changes: {} };

const CASES: Record<string, unknown> = {
  "the reference example body": seed,
  "the least create body": { operationType: "cloneTeam" },
  "an empty body": {},
  "not an object": "cloneTeam",
  "an array": [{ operationType: "cloneTeam" }],
  null: null,
  "nulls where Graph allows them": {
    operationType: "cloneTeam",
    targetResourceId: null,
    targetResourceLocation: null,
    error: null,
  },
  "lone nulls where it does not": { operationType: null, status: null, attemptsCount: null, lastActionDateTime: null },
  "a null error code": { operationType: "cloneTeam", error: { code: null, message: null } },
  "an unknown property": { operationType: "cloneTeam", extra: true },
  "a read-only property": { operationType: "cloneTeam", createdDateTime: "2016-12-31T23:56:44Z", id: "x" },
  "a __proto__ property": JSON.parse('{"operationType":"cloneTeam","__proto__":{"a":1}}'),
  "wrong types": { operationType: 5, status: true, attemptsCount: "1", targetResourceId: 7, error: "e" },
  "a wrong @odata.type": { operationType: "cloneTeam", "@odata.type": "#microsoft.graph.team" },
  "an evolvable operation type": { operationType: "teamifyGroup", status: "failed" },
  "an evolvable channel type": { operationType: "archiveChannel" },
  "the sentinel member": { operationType: "unknownFutureValue", status: "unknownFutureValue" },
  "an unknown member": { operationType: "deleteTeam", status: "done" },
  "an id of 128 characters": { operationType: "cloneTeam", id: `a${"b".repeat(127)}` },
  "an id of 129 characters": { operationType: "cloneTeam", id: `a${"b".repeat(128)}` },
  "an id starting with a dot": { operationType: "cloneTeam", id: ".a" },
  "attemptsCount at the limits": { operationType: "cloneTeam", attemptsCount: LIMITS.attemptsCount },
  "attemptsCount over": { operationType: "cloneTeam", attemptsCount: LIMITS.attemptsCount + 1 },
  "attemptsCount negative": { operationType: "cloneTeam", attemptsCount: -1 },
  "attemptsCount fractional": { operationType: "cloneTeam", attemptsCount: 1.5 },
  "targetResourceId at the limit": {
    operationType: "cloneTeam",
    targetResourceId: "a".repeat(LIMITS.targetResourceId),
  },
  "targetResourceId over": { operationType: "cloneTeam", targetResourceId: "a".repeat(LIMITS.targetResourceId + 1) },
  "astral characters at the limit": { operationType: "cloneTeam", targetResourceId: astral(LIMITS.targetResourceId) },
  "astral characters over": { operationType: "cloneTeam", targetResourceId: astral(LIMITS.targetResourceId + 1) },
  "targetResourceLocation at the limit": {
    operationType: "cloneTeam",
    targetResourceLocation: "a".repeat(LIMITS.targetResourceLocation),
  },
  "targetResourceLocation over": {
    operationType: "cloneTeam",
    targetResourceLocation: "a".repeat(LIMITS.targetResourceLocation + 1),
  },
  "error code and message at the limits": {
    operationType: "cloneTeam",
    error: { code: "c".repeat(LIMITS.errorCode), message: "m".repeat(LIMITS.errorMessage) },
  },
  "error code and message over": {
    operationType: "cloneTeam",
    error: { code: "c".repeat(LIMITS.errorCode + 1), message: "m".repeat(LIMITS.errorMessage + 1) },
  },
  "an empty error code": { operationType: "cloneTeam", error: { code: "" } },
  "an error without a code": { operationType: "cloneTeam", error: { message: "m", extra: 1 } },
  "a wrong error @odata.type": { operationType: "cloneTeam", error: { code: "c", "@odata.type": "x" } },
  "a date-time in UTC": at("2016-12-31T23:56:44Z"),
  "seven fractional digits": at("2016-12-31T23:56:44.1234567Z"),
  "eight fractional digits": at("2016-12-31T23:56:44.12345678Z"),
  "a leap second": at("2016-12-31T23:59:60Z"),
  "a leap second with an offset": at("2016-12-31T23:59:60+03:00"),
  "year 0000 after the offset": at("0001-01-01T00:30:00+01:00"),
  "year 10000 after the offset": at("9999-12-31T23:30:00-01:00"),
  "no offset": at("2016-12-31T23:56:44"),
  "lower-case t and z": at("2016-12-31t23:56:44z"),
  "February 30": at("2016-02-30T00:00:00Z"),
  "hour 24": at("2016-12-31T24:00:00Z"),
  "a date only": at("2016-12-31"),
  "a number as date-time": at(1483228604000),
  "every update property": { ...seed, operationType: undefined },
  "an update of status": { status: "succeeded" },
  "everything wrong at once": {
    operationType: 1,
    status: "done",
    createdDateTime: "x",
    extra: true,
    attemptsCount: -1,
    lastActionDateTime: "2016-12-31T23:59:60Z",
    error: { message: 5 },
  },
  "a create message": createMessage,
  "an update message": updateMessage,
  "a create message without operation": { ...createMessage, operation: undefined },
  "a create message with a null operation": { ...createMessage, operation: null },
  "a create message with an array operation": { ...createMessage, operation: [] },
  "a create message with an extra property": { ...createMessage, priority: 1 },
  "a message with upper-case GUIDs": { ...createMessage, tenantId: GUID.toUpperCase() },
  "a message with a bad GUID": { ...createMessage, tenantId: "tenant", teamId: 5 },
  "a message with another action": { ...createMessage, action: "delete" },
  "an update message without changes": { ...updateMessage, changes: undefined, operationId: "-bad" },
  "an update message with string changes": { ...updateMessage, changes: "x", operationId: null },
  "a message with nothing but its action": { action: "update" },
};

describe("the generated validators against AJV compiling at run time", () => {
  it.each(Object.entries(CASES))("%s", (_label, data) => {
    // JSON round trip: what arrives over HTTP or a queue (drops the undefined properties above).
    expectSameVerdicts(JSON.parse(JSON.stringify(data)));
  });

  // Valid bodies, and objects of the schemas' property names with any values.
  const keys = [...new Set([...Object.keys(seed), ...Object.keys(updateMessage), "operation", "id", "extra"])];
  const value = fc.oneof(
    fc.jsonValue(),
    fc.constantFrom(...Object.values(seed), ...Object.values(updateMessage), GUID, "create", "teamifyGroup"),
    dateTime().map((d) => d.text),
    fc.dictionary(fc.constantFrom("code", "message", "@odata.type", "x"), fc.jsonValue()),
  );
  const data = fc.oneof(createBody(true), updateBody(), fc.dictionary(fc.constantFrom(...keys), value));
  property.prop([data], { numRuns: 500 })("agree on generated bodies", (body) => {
    expectSameVerdicts(JSON.parse(JSON.stringify(body)));
  });
});

describe("the built validation modules under plain Node", () => {
  it("load neither ajv's compiler nor ajv-formats' plugin, and find ajv's runtime helper", () => {
    const script = [
      `import { createRequire } from "node:module";`,
      `const { parseCreateBody } = await import("./dist/shared/operations/schema.js");`,
      `await import("./dist/shared/events/inbox.js");`,
      // maxLength counts code points with ajv's ucs2length: 1024 emoji are 2048 UTF-16 units.
      `parseCreateBody({ operationType: "cloneTeam", targetResourceId: "\u{1F600}".repeat(1024) }, false);`,
      `const loaded = Object.keys(createRequire(import.meta.url).cache);`,
      `const packages = loaded.filter((f) => f.includes("/node_modules/")).map((f) => f.split("/node_modules/").pop());`,
      `console.log(JSON.stringify(packages));`,
    ].join("\n");
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
    });
    const loaded = (JSON.parse(out) as string[]).filter((file) => file.startsWith("ajv"));
    // The runtime helper being listed shows that the CommonJS modules an ES module imports are.
    expect(loaded).toContain("ajv/dist/runtime/ucs2length.js");
    expect(loaded.filter((file) => !file.startsWith("ajv/dist/runtime/"))).toEqual(["ajv-formats/dist/formats.js"]);
  });
});
