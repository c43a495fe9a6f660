/**
 * The shapes of the identifiers the app checks, each written once: GUIDs (tenant, team, group and subscription
 * ids, managed identity client ids) and the client's own ids in headers (client-request-id,
 * Repeatability-Request-ID).
 */

/** A GUID's text, 8-4-4-4-12 hex digits of either case: the source for JSON Schema patterns and larger patterns. */
export const GUID_SOURCE = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

/** A whole string that is a GUID. */
export const GUID = new RegExp(`^${GUID_SOURCE}$`);

/** 1 to 128 visible ASCII characters (no space): an id a client chose for its request. */
export const VISIBLE_ASCII_ID = /^[\x21-\x7e]{1,128}$/;
