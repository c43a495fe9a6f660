/**
 * docs/graph-compatibility.md's "Deliberate differences" against the code: every bound the schemas add to Graph's
 * types, every property a create refuses as read-only, and every rule of OPERATION_RULES has its row, and every row
 * names one of them (or a difference from the reference page itself, `page:`). Each rule is also shown to do what its
 * key says, so the catalogue cannot name rules the code does not hold.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Refusal } from "../../../shared/errors.js";
import type { OperationDocument } from "../../../shared/operations/model.js";
import {
  applyUpdate,
  newOperationDocument,
  OPERATION_RULES,
  type OperationRule,
} from "../../../shared/operations/rules.js";
import { READ_ONLY_ON_CREATE } from "../../../shared/operations/schema.js";
import { createOperationSchema, LIMITS, updateOperationSchema } from "../../../shared/operations/schemas.js";
import { PROJECT_ROOT } from "../../support/stack.js";

/** The keywords by which a schema bounds a value beyond its Graph type. */
const BOUNDS = ["maxLength", "minLength", "minimum", "maximum", "pattern"] as const;

type Schema = { readonly properties?: Readonly<Record<string, Schema>> } & Readonly<Record<string, unknown>>;

function schemaBounds(schema: Schema, path = ""): string[] {
  const own = BOUNDS.filter((keyword) => keyword in schema)
    // Int32's own range is Graph's type, not a bound of ours.
    .filter((keyword) => !(keyword === "maximum" && schema[keyword] === LIMITS.attemptsCount))
    .map((keyword) => `schema:${path}.${keyword}`);
  const nested = Object.entries(schema.properties ?? {}).flatMap(([name, child]) =>
    schemaBounds(child, path ? `${path}.${name}` : name),
  );
  return [...own, ...nested];
}

function differencesInCode(): Set<string> {
  const keys = new Set<string>();
  for (const schema of [createOperationSchema, updateOperationSchema] as readonly Schema[]) {
    for (const key of schemaBounds(schema)) keys.add(key);
    // The entity is an open type in Graph's metadata: refusing other properties is ours.
    if (schema.additionalProperties === false) keys.add("schema:additionalProperties");
  }
  for (const name of READ_ONLY_ON_CREATE) keys.add(`schema:${name}.readOnly`);
  for (const rule of Object.keys(OPERATION_RULES)) keys.add(`rule:${rule}`);
  return keys;
}

function differencesDocumented(): string[] {
  const text = readFileSync(join(PROJECT_ROOT, "docs", "graph-compatibility.md"), "utf8");
  const section = text.split(/^## /m).find((part) => part.startsWith("Deliberate differences"));
  if (!section) throw new Error("docs/graph-compatibility.md has no 'Deliberate differences' section");
  return [...section.matchAll(/^\| `([^`]+)` +\|/gm)].map((match) => match[1]!);
}

const createdAt = new Date("2026-01-01T00:00:00Z");
const ctx = { ttlSeconds: 60, now: new Date("2026-01-02T00:00:00Z") };
const operation = (changes: Partial<OperationDocument> = {}): OperationDocument => ({
  ...newOperationDocument(
    { operationType: "cloneTeam", id: "op", lastActionDateTime: "2026-01-01T00:00:00.1234567Z" },
    {
      tenantId: "t",
      teamId: "team",
      createdBy: { kind: "queue", objectId: undefined, appId: undefined },
      ttlSeconds: 60,
      now: createdAt,
    },
  ),
  ...changes,
});

function refusedBy(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as Refusal).rule;
  }
  return undefined;
}

/** For each rule, what shows it holds. */
const PROBES: Record<OperationRule, () => boolean> = {
  "status.forwardOnly": () =>
    refusedBy(() => applyUpdate(operation({ status: "inProgress" }), { status: "notStarted" }, ctx)) ===
    "status.forwardOnly",
  "status.finishedIsFinal": () =>
    refusedBy(() => applyUpdate(operation({ status: "succeeded" }), { attemptsCount: 5 }, ctx)) ===
    "status.finishedIsFinal",
  "attemptsCount.neverDecreases": () =>
    refusedBy(() => applyUpdate(operation({ attemptsCount: 3 }), { attemptsCount: 2 }, ctx)) ===
    "attemptsCount.neverDecreases",
  "error.failedSaysWhy": () =>
    refusedBy(() => applyUpdate(operation(), { status: "failed", error: { code: null, message: null } }, ctx)) ===
    "error.failedSaysWhy",
  "error.emptyIsNone": () =>
    applyUpdate(operation({ error: { code: "x", message: null } }), { error: {} }, ctx).document.error === null,
  "readOnly.currentValueOnly": () =>
    refusedBy(() => applyUpdate(operation(), { unchanged: { id: "another" } }, ctx)) === "readOnly.currentValueOnly",
  "lastActionDateTime.readBackIsUnchanged": () =>
    applyUpdate(operation(), { lastActionDateTime: "2026-01-01T00:00:00.123Z" }, ctx).changed === false,
};

describe("the deliberate differences from Graph", () => {
  it("are each listed in docs/graph-compatibility.md, and the list names nothing else", () => {
    const documented = differencesDocumented();
    const inCode = differencesInCode();
    expect(new Set(documented).size, "a key listed twice").toBe(documented.length);
    expect(
      [...inCode].filter((key) => !documented.includes(key)),
      "in the code, not in the list",
    ).toEqual([]);
    const stale = documented.filter((key) => !inCode.has(key) && !key.startsWith("page:"));
    expect(stale, "in the list, not in the code").toEqual([]);
  });

  it("hold as their keys say, one probe per rule", () => {
    expect(Object.keys(PROBES).sort()).toEqual(Object.keys(OPERATION_RULES).sort());
    for (const [rule, holds] of Object.entries(PROBES)) expect(holds(), rule).toBe(true);
  });
});
