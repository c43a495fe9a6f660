/**
 * The string formats the schemas use, imported by the generated validators
 * (`validators.generated.ts`): `formats[name].validate(value)`. Each must stay
 * an object with a synchronous `validate` for strings, the shape the generator
 * compiles against. Only ajv-formats' format table is loaded, not its plugin
 * (which would load ajv).
 */
import { fullFormats } from "ajv-formats/dist/formats.js";
import { toCanonicalUtc } from "./timestamps.js";

export const formats = {
  "date-time": fullFormats["date-time"],
  "graph-date-time": { type: "string", validate: (value: string) => toCanonicalUtc(value) !== undefined },
} as const;
