/**
 * The `Prefer` request header (RFC 7240) and the `Preference-Applied` answer: the two preferences the API honours,
 * `return=minimal` and Graph's `include-unknown-enum-members`.
 */

export interface Preferences {
  readonly returnMinimal: boolean;
  readonly includeUnknownEnumMembers: boolean;
}

const NO_PREFERENCES: Preferences = Object.freeze({ returnMinimal: false, includeUnknownEnumMembers: false });

/** RFC 7240: preferences a server does not understand are ignored, not errors. */
export function parsePrefer(header: string | null): Preferences {
  if (header === null || header === "") return NO_PREFERENCES;
  const tokens = new Set(
    (header ?? "").split(",").map((p) =>
      p
        .split(";")[0]!
        .trim()
        .toLowerCase()
        .replace(/\s*=\s*/, "="),
    ),
  );
  return {
    returnMinimal: tokens.has("return=minimal"),
    includeUnknownEnumMembers: tokens.has("include-unknown-enum-members"),
  };
}

/** `Preference-Applied` for the preferences this response honoured. */
export function preferenceApplied(applied: readonly string[]): Record<string, string> {
  return applied.length > 0 ? { "Preference-Applied": applied.join(", ") } : {};
}
