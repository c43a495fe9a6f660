/**
 * OData key syntax in a path: `teams('{id}')/operations('{opId}')` (the form
 * Graph's own `Location` headers use) and `teams({id})/operations({opId})`
 * (the form its docs write), rewritten to the path-segment form the routes
 * are registered with (`teams/{id}/operations/{opId}`), so both reach the
 * same handler with the same rules. Segments without a key are left as they
 * are; a quoted key's doubled quotes (`''`) are one quote.
 */

const KEYED_SEGMENT = /^([A-Za-z][A-Za-z0-9_]*)\((.*)\)$/;
const QUOTED_KEY = /^'((?:[^']|'')*)'$/;
const UNQUOTED_KEY = /^[^'()=,]+$/;

/**
 * The path-segment form of a path below the route prefix, or undefined when no segment is in key syntax
 * (or a key is malformed, or holds a '/', which the path-segment form cannot express).
 */
export function fromKeySyntax(path: string): string | undefined {
  let keyed = false;
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    const match = KEYED_SEGMENT.exec(segment);
    if (!match) {
      segments.push(segment);
      continue;
    }
    const raw = match[2]!;
    const quoted = QUOTED_KEY.exec(raw);
    const key = quoted ? quoted[1]!.replace(/''/g, "'") : UNQUOTED_KEY.test(raw) ? raw : undefined;
    if (key === undefined || key === "" || key.includes("/")) return undefined;
    keyed = true;
    segments.push(match[1]!, key);
  }
  return keyed ? segments.join("/") : undefined;
}
