/**
 * An operation as Graph's entity: the representation with its `@odata.context`, type and ETag. One function for
 * every place that writes it (a GET, a create or update's answer, the resource data of a change notification), so
 * that a subscriber decrypting a notification finds exactly what a GET at the same origin returns.
 */
import {
  ENTITY_TYPE,
  toRepresentation,
  type RepresentationProperty,
  type StoredOperation,
} from "../operations/model.js";
import { etagHeader } from "./etags.js";
import { absoluteUrl } from "./urls.js";

export interface EntityContext {
  /** Scheme and host the URLs are written on, without a trailing slash. */
  readonly baseUrl: string;
  readonly includeUnknownEnumMembers: boolean;
}

export function operationEntity(
  stored: StoredOperation,
  context: EntityContext,
  teamId: string,
  select?: readonly RepresentationProperty[],
): Record<string, unknown> {
  const selected = select ? `(${select.join(",")})` : "";
  return {
    "@odata.context": absoluteUrl(context, `/v1.0/$metadata#teams('${teamId}')/operations${selected}/$entity`),
    "@odata.type": ENTITY_TYPE,
    // The ETag header's value, so a client that sees only the body (an SDK model) can send it back in If-Match.
    "@odata.etag": etagHeader(stored.etag),
    ...toRepresentation(stored.document, { includeUnknownEnumMembers: context.includeUnknownEnumMembers, select }),
  };
}
