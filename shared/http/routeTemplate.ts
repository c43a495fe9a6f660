/**
 * Route templates as the Functions host's ASP.NET routing reads them, compiled
 * to one regular expression each: literal segments, `{name}`, `{name?}`,
 * `{name:constraint}` (the constraint is not checked) and a catch-all
 * `{*name}`; matched case-insensitively, with an optional trailing slash. The
 * app's own route table (`routes.ts`) and the local host (`local/host/server.ts`)
 * both compile their templates here, so they match a path alike.
 */

export type RouteSegment =
  | { readonly kind: "literal"; readonly text: string }
  | {
      readonly kind: "parameter";
      readonly name: string;
      readonly optional: boolean;
      readonly catchAll: boolean;
      readonly constrained: boolean;
    };

export interface CompiledRouteTemplate {
  /** Matches a whole path that starts with `/` (the template's segments each follow a `/`). */
  readonly pattern: RegExp;
  /** The parameters' names, in the order of the pattern's capture groups. */
  readonly params: readonly string[];
  /** ASP.NET routing's order, one digit a segment: literals (0) before parameters (1) before a catch-all (2). */
  readonly rank: string;
  readonly segments: readonly RouteSegment[];
}

const PARAMETER = /^\{(\*?)([A-Za-z0-9_]+)(:[^}?]*)?(\??)\}$/;
const REGEX_SPECIAL = /[.*+?^${}()|[\]\\]/g;

/** Reads one segment; anything that is not a whole parameter is a literal, braces included. */
export function parseSegment(segment: string): RouteSegment {
  const param = PARAMETER.exec(segment);
  if (!param) return { kind: "literal", text: segment };
  return {
    kind: "parameter",
    name: param[2]!,
    optional: param[4] === "?",
    catchAll: param[1] === "*",
    constrained: param[3] !== undefined,
  };
}

/** Compiles a template (segments separated by `/`, no leading slash). */
export function compileRouteTemplate(template: string): CompiledRouteTemplate {
  const params: string[] = [];
  let rank = "";
  let source = "";
  const segments = template.split("/").map(parseSegment);
  for (const segment of segments) {
    if (segment.kind === "literal") {
      rank += "0";
      source += `/${segment.text.replace(REGEX_SPECIAL, "\\$&")}`;
      continue;
    }
    params.push(segment.name);
    if (segment.catchAll) {
      rank += "2";
      source += "(?:/(.*))?";
    } else {
      rank += "1";
      source += segment.optional ? "(?:/([^/]+))?" : "/([^/]+)";
    }
  }
  return { pattern: new RegExp(`^${source}/?$`, "i"), params, rank, segments };
}

/** The values of a match's parameters by name; an optional parameter or catch-all that matched nothing is left out. */
export function routeValues(
  compiled: Pick<CompiledRouteTemplate, "params">,
  match: RegExpExecArray,
): Record<string, string> {
  const values: Record<string, string> = {};
  compiled.params.forEach((name, i) => {
    const value = match[i + 1];
    if (value !== undefined) values[name] = value;
  });
  return values;
}

/** Decodes each path segment as ASP.NET routing does, leaving an encoded '/' alone; bad escapes stay as sent. */
export function decodeRoutePath(pathname: string): string {
  if (!pathname.includes("%")) return pathname;
  return pathname
    .split("/")
    .map((segment) => {
      try {
        return decodeURIComponent(segment.replace(/%2f/gi, "%252F"));
      } catch {
        return segment;
      }
    })
    .join("/");
}
