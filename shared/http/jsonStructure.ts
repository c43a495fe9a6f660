/**
 * What JSON.parse lets through silently and a request body may not hold: a property name given twice (JSON.parse
 * keeps the last; OData readers refuse such a body), a string that is not well-formed UTF-16 (a lone surrogate),
 * nesting deeper than MAX_BODY_DEPTH, and property names that could pollute prototypes. One scan over the text,
 * for bodies that arrive as text; a walk of the value, for JSON that arrives parsed. No library does the first two;
 * the prototype check is here too rather than secure-json-parse's, which would be a second pass over the text for
 * names this scan already reads, and narrower (it lets a bare `constructor` or `prototype` name through).
 */
import { InvalidInputError } from "../errors.js";

const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** How deeply objects and arrays may nest in a request body; a valid operation needs 2. */
export const MAX_BODY_DEPTH = 32;
/** In a `u` regex a surrogate pair is one code point, so only a lone surrogate matches. */
const LONE_SURROGATE = /\p{Cs}/u;
/** Any UTF-16 surrogate code unit (no `u` flag: code units, not code points). */
const SURROGATE = /[\ud800-\udfff]/g;

const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d; // }
const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const COLON = 0x3a; // :

function isJsonWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

function indexOrEnd(index: number, length: number): number {
  return index === -1 ? length : index;
}

/** The quote that ends the string opening at `open`: the first one not escaped, i.e. after an even run of backslashes. */
function closingQuote(text: string, open: number, firstBackslash: number): number {
  let end = indexOrEnd(text.indexOf('"', open + 1), text.length);
  if (firstBackslash > end) return end;
  for (;;) {
    let before = end - 1;
    while (before > open && text.charCodeAt(before) === BACKSLASH) before--;
    if ((end - 1 - before) % 2 === 0 || end >= text.length) return end;
    end = indexOrEnd(text.indexOf('"', end + 1), text.length);
  }
}

/**
 * Walks the tokens of a body JSON.parse has already accepted (so no grammar
 * checks are needed) and refuses what JSON.parse lets through silently:
 * duplicate property names (JSON.parse keeps the last; OData readers refuse
 * them, and so do we), property names that could pollute prototypes, strings
 * that are not well-formed UTF-16 (lone surrogates), and nesting deeper than
 * `maxDepth`. Iterative, so nesting cannot overflow the stack; one pass over
 * the characters, decoding only the strings that hold an escape or a surrogate.
 */
export function checkJsonStructure(text: string, subject = "The request body", maxDepth = MAX_BODY_DEPTH): void {
  const objects: Array<Set<string> | undefined> = [];
  const path: string[] = [];
  let polluting: Set<string> | undefined;
  const length = text.length;
  // Where the next backslash and the next surrogate are (length: none): a string before both is its own text.
  let backslash = -1;
  let surrogate = -1;
  for (let i = 0; i < length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === OPEN_OBJECT || ch === OPEN_ARRAY) {
      objects.push(ch === OPEN_OBJECT ? new Set() : undefined);
      path.push("");
      if (objects.length > maxDepth) {
        throw new InvalidInputError(`${subject} nests objects or arrays deeper than ${maxDepth} levels.`);
      }
    } else if (ch === CLOSE_OBJECT || ch === CLOSE_ARRAY) {
      objects.pop();
      path.pop();
    } else if (ch === QUOTE) {
      if (backslash <= i) backslash = indexOrEnd(text.indexOf("\\", i + 1), length);
      if (surrogate <= i) {
        SURROGATE.lastIndex = i + 1;
        surrogate = SURROGATE.test(text) ? SURROGATE.lastIndex - 1 : length;
      }
      const end = closingQuote(text, i, backslash);
      // Only a string with an escape or a surrogate can differ from its text or hold a lone surrogate.
      let value: string | undefined;
      if (backslash < end || surrogate < end) {
        value = JSON.parse(text.slice(i, end + 1)) as string;
        if (LONE_SURROGATE.test(value)) throw loneSurrogate(subject);
      }
      let next = end + 1;
      while (isJsonWhitespace(text.charCodeAt(next))) next++;
      const keys = objects[objects.length - 1];
      if (keys && text.charCodeAt(next) === COLON) {
        value ??= text.slice(i + 1, end);
        path[path.length - 1] = value;
        if (keys.has(value)) {
          const target = path.filter((p) => p !== "").join(".");
          throw new InvalidInputError(`${subject} names the property '${target}' more than once.`, {
            target,
            details: [{ code: "duplicateProperty", target, message: `'${target}' appears more than once.` }],
          });
        }
        keys.add(value);
        if (FORBIDDEN_KEYS.has(value)) (polluting ??= new Set()).add(value);
      }
      i = end;
    }
  }
  if (polluting) throw forbiddenNames(subject, polluting);
}

const loneSurrogate = (subject: string) =>
  new InvalidInputError(`${subject} contains a string that is not valid Unicode (a lone surrogate).`);

const forbiddenNames = (subject: string, names: ReadonlySet<string>) =>
  new InvalidInputError(`${subject} uses a forbidden property name: ${[...names].join(", ")}.`, {
    details: [...names].map((k) => ({ code: "forbiddenProperty", target: k, message: `'${k}' is not allowed.` })),
  });

/**
 * The checks of `checkJsonStructure` that a value already parsed still allows: nesting, lone surrogates (in names
 * and strings) and property names that could pollute prototypes. For JSON that arrives parsed (the Functions host
 * parses queue messages), whose duplicate names JSON.parse has already dropped. Iterative.
 */
export function checkJsonValue(value: unknown, subject: string): void {
  const polluting = new Set<string>();
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const { value: item, depth } = pending.pop()!;
    if (typeof item === "string") {
      if (LONE_SURROGATE.test(item)) throw loneSurrogate(subject);
    } else if (typeof item === "object" && item !== null) {
      if (depth >= MAX_BODY_DEPTH) {
        throw new InvalidInputError(`${subject} nests objects or arrays deeper than ${MAX_BODY_DEPTH} levels.`);
      }
      for (const [key, element] of Object.entries(item)) {
        if (!Array.isArray(item)) {
          if (LONE_SURROGATE.test(key)) throw loneSurrogate(subject);
          if (FORBIDDEN_KEYS.has(key)) polluting.add(key);
        }
        pending.push({ value: element, depth: depth + 1 });
      }
    }
  }
  if (polluting.size > 0) throw forbiddenNames(subject, polluting);
}
