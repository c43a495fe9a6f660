/**
 * The body guard (`parseJsonBody`, `checkJsonStructure`) gives the verdicts
 * it gave before it was rewritten as a single scan: the earlier version is
 * kept below as the reference, and random bodies (duplicate, escaped and
 * forbidden keys, lone and paired surrogates, deep nesting, byte-order marks,
 * bytes that are not UTF-8, blank bodies) must get the same answer from both:
 * the same parsed value, or the same Graph error.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { graphErrorOf } from "../../../shared/http/errorMapping.js";
import { GraphError, badRequest } from "../../../shared/http/graphError.js";
import { parseJsonBody } from "../../../shared/http/jsonBody.js";
import { MAX_BODY_DEPTH, checkJsonStructure } from "../../../shared/http/jsonStructure.js";

// ---------------------------------------------------------------- the reference: the guard as it was

const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);
const LONE_SURROGATE = /\p{Cs}/u;

function referenceCheckJsonStructure(text: string): void {
  const objects: Array<Set<string> | undefined> = [];
  const path: string[] = [];
  const polluting = new Set<string>();
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "{" || ch === "[") {
      objects.push(ch === "{" ? new Set() : undefined);
      path.push("");
      if (objects.length > MAX_BODY_DEPTH) {
        throw badRequest(`The request body nests objects or arrays deeper than ${MAX_BODY_DEPTH} levels.`);
      }
    } else if (ch === "}" || ch === "]") {
      objects.pop();
      path.pop();
    } else if (ch === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      const value = JSON.parse(text.slice(i, end + 1)) as string;
      if (LONE_SURROGATE.test(value)) {
        throw badRequest("The request body contains a string that is not valid Unicode (a lone surrogate).");
      }
      let next = end + 1;
      while (text[next] === " " || text[next] === "\t" || text[next] === "\n" || text[next] === "\r") next++;
      const keys = objects[objects.length - 1];
      if (keys && text[next] === ":") {
        path[path.length - 1] = value;
        const target = path.filter((p) => p !== "").join(".");
        if (keys.has(value)) {
          throw badRequest(`The request body names the property '${target}' more than once.`, {
            target,
            details: [{ code: "duplicateProperty", target, message: `'${target}' appears more than once.` }],
          });
        }
        keys.add(value);
        if (FORBIDDEN_KEYS.has(value)) polluting.add(value);
      }
      i = end;
    }
  }
  if (polluting.size > 0) {
    throw badRequest(`The request body uses a forbidden property name: ${[...polluting].join(", ")}.`, {
      details: [...polluting].map((k) => ({ code: "forbiddenProperty", target: k, message: `'${k}' is not allowed.` })),
    });
  }
}

function referenceParseJsonBody(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw badRequest("The request body is not valid UTF-8.");
  }
  if (text.trim() === "") throw badRequest("The request body is empty; a JSON object is required.");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest("The request body is not well-formed JSON.");
  }
  referenceCheckJsonStructure(text);
  return parsed;
}

// ---------------------------------------------------------------- verdicts

type Verdict =
  | { readonly accepted: unknown }
  | { readonly refused: Pick<GraphError, "status" | "code" | "message" | "target" | "details"> };

function verdict(run: () => unknown): Verdict {
  try {
    return { accepted: run() };
  } catch (thrown) {
    // What the API answers for the refusal.
    const error = graphErrorOf(thrown);
    if (!(error instanceof GraphError)) throw thrown;
    const { status, code, message, target, details } = error;
    return { refused: { status, code, message, target, details } };
  }
}

// ---------------------------------------------------------------- bodies

const ws = fc.constantFrom("", " ", "\n", "\t ", "\r\n  ");
/** Key texts as they appear between quotes: plain, escaped spellings of the same name, surrogates, polluting names. */
const keyText = fc.constantFrom(
  "a",
  "b",
  "status",
  "\\u0061",
  "\\u0073tatus",
  'a\\"b',
  "a\\\\",
  "__proto__",
  "\\u005f_proto__",
  "constructor",
  "prototype",
  "\\ud800",
  "x\\udc00",
  "\\ud83d\\ude00",
  "😀",
  "é",
  "",
);
const stringText = fc.oneof(
  keyText,
  fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s).slice(1, -1)),
  fc.constantFrom("\\ud83d", "\\ude00", "\\ud83d\\u0041", "tab\\there", "\\/"),
);
const scalar = fc.oneof(
  stringText.map((s) => `"${s}"`),
  fc.constantFrom("0", "-1.5e3", "true", "false", "null", "12345678901234567890"),
);

const { value: jsonText } = fc.letrec<{ value: string; object: string; array: string }>((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("object"), tie("array")),
  object: fc
    .array(fc.tuple(ws, keyText, ws, ws, tie("value")), { maxLength: 5 })
    .chain((pairs) =>
      ws.map((end) => `{${pairs.map(([a, k, b, c, v]) => `${a}"${k}"${b}:${c}${v}`).join(",")}${end}}`),
    ),
  array: fc.array(tie("value"), { maxLength: 4 }).map((items) => `[${items.join(",")}]`),
}));

/** Nesting around the depth limit, objects and arrays mixed. */
const deep = fc
  .tuple(fc.integer({ min: MAX_BODY_DEPTH - 2, max: MAX_BODY_DEPTH + 2 }), fc.array(fc.boolean(), { maxLength: 40 }))
  .map(([depth, kinds]) => {
    let text = "1";
    for (let level = 0; level < depth; level++)
      text = kinds[level % Math.max(1, kinds.length)] ? `{"a":${text}}` : `[${text}]`;
    return text;
  });

const encode = (text: string) => new TextEncoder().encode(text);
const bodies = fc.oneof(
  { weight: 6, arbitrary: jsonText.map(encode) },
  { weight: 1, arbitrary: deep.map(encode) },
  { weight: 1, arbitrary: jsonText.map((t) => Uint8Array.from([0xef, 0xbb, 0xbf, ...encode(t)])) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 24 }) },
  {
    weight: 1,
    arbitrary: fc.tuple(jsonText, fc.nat(), fc.constantFrom(0x80, 0xc0, 0xed, 0xff)).map(([t, at, byte]) => {
      const bytes = [...encode(t)];
      bytes.splice(at % (bytes.length + 1), 0, byte);
      return Uint8Array.from(bytes);
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "\n\t", "\u00a0", "\ufeff", "{", "[1,]").map(encode) },
);

describe("the body guard keeps the verdicts it gave before", () => {
  test.prop([bodies], { numRuns: 3000 })("on bytes: the same value, or the same Graph error", (bytes) => {
    expect(verdict(() => parseJsonBody(bytes))).toEqual(verdict(() => referenceParseJsonBody(bytes)));
  });

  // Text that never came from UTF-8 bytes can hold raw lone surrogates: the structure check alone, on such text.
  const parses = (text: string) => {
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  };
  const rawText = jsonText
    .chain((text) =>
      fc.constantFrom("\ud800", "\udc00", "\ud83d\ude00", "\ud83d").map((s) => text.replace(/"[a-z]*"/, `"${s}"`)),
    )
    .filter(parses);
  test.prop([fc.oneof(jsonText, rawText, deep)], { numRuns: 2000 })(
    "on text JSON.parse accepts: the structure check refuses the same way",
    (text) => {
      expect(verdict(() => checkJsonStructure(text))).toEqual(verdict(() => referenceCheckJsonStructure(text)));
    },
  );

  it("finds both kinds of verdict, so the comparison means something", () => {
    const sample = fc.sample(bodies, { numRuns: 2000, seed: 19 }).map((bytes) => verdict(() => parseJsonBody(bytes)));
    const messages = sample.flatMap((v) => ("refused" in v ? [v.refused.message] : []));
    expect(sample.some((v) => "accepted" in v)).toBe(true);
    for (const kind of ["more than once", "forbidden property", "lone surrogate", "deeper than", "not valid UTF-8"]) {
      expect(
        messages.some((m) => m.includes(kind)),
        kind,
      ).toBe(true);
    }
  });
});
