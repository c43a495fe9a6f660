/**
 * The JSON Schema of a JSON batch (`POST /v1.0/$batch`), as Graph's JSON
 * batching documents it: plain data, compiled ahead of time by
 * `scripts/compile-validators.js`. What a schema cannot say (ids unique
 * without regard to case, dependencies that exist and do not loop, relative
 * URLs) is checked in `batch.ts`; what each inner request holds is checked by
 * the route it names, as if it had been sent alone.
 */

/** At most this many requests in one batch, as in Graph. */
export const MAX_BATCH_REQUESTS = 20;

/** An RFC 9110 token: a header name or a method. */
const TOKEN_PATTERN = "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$";
/** A header value as a request can carry it: Latin-1 visible characters, spaces and tabs; no line break or NUL. */
const HEADER_VALUE_PATTERN = "^[\\t\\x20-\\x7e\\x80-\\xff]*$";

const requestId = { type: "string", minLength: 1, maxLength: 128 } as const;

export const batchRequestSchema = {
  $id: "batchRequest",
  type: "object",
  additionalProperties: false,
  required: ["requests"],
  properties: {
    requests: {
      type: "array",
      minItems: 1,
      maxItems: MAX_BATCH_REQUESTS,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["id", "method", "url"],
        properties: {
          id: requestId,
          method: { type: "string", maxLength: 16, pattern: TOKEN_PATTERN },
          url: { type: "string", minLength: 1, maxLength: 8192 },
          headers: {
            type: ["object", "null"],
            maxProperties: 64,
            propertyNames: { maxLength: 256, pattern: TOKEN_PATTERN },
            additionalProperties: { type: "string", maxLength: 8192, pattern: HEADER_VALUE_PATTERN },
          },
          // Any JSON value: a JSON body as it is, any other body as a base64url string (the route reads it).
          body: {},
          dependsOn: { type: ["array", "null"], maxItems: MAX_BATCH_REQUESTS, items: requestId },
        },
      },
    },
  },
} as const;
