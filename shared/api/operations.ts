/**
 * The HTTP handlers of the operations API. Each one reads the request, calls
 * the operation rules and the store, and writes Graph's answer.
 */
import type { HttpResponseInit } from "@azure/functions";
import { createdBy } from "../auth/access.js";
import type { ApiRequest } from "../http/pipeline.js";
import {
  absoluteUrl,
  emptyResponse,
  jsonResponse,
  preferenceApplied,
  readJsonBody,
  type WireContext,
} from "../http/wire.js";
import { ENTITY_TYPE, toRepresentation, type StoredOperation } from "../operations/model.js";
import { newOperationDocument } from "../operations/rules.js";
import { parseCreateBody } from "../operations/schema.js";
import { operationStore } from "../store/operationStore.js";

function operationPath(teamId: string, operationId: string): string {
  return `/v1.0/teams/${teamId}/operations/${encodeURIComponent(operationId)}`;
}

function entityContext(wire: WireContext, teamId: string): string {
  return absoluteUrl(wire, `/v1.0/$metadata#teams('${teamId}')/operations/$entity`);
}

/** The ETag header value: Cosmos's own `_etag`, already a quoted string. */
function etagHeader(etag: string): string {
  return etag.startsWith('"') || etag.startsWith("W/") ? etag : `"${etag}"`;
}

function entityBody(stored: StoredOperation, wire: WireContext, teamId: string): Record<string, unknown> {
  return {
    "@odata.context": entityContext(wire, teamId),
    "@odata.type": ENTITY_TYPE,
    ...toRepresentation(stored.document, { includeUnknownEnumMembers: wire.preferences.includeUnknownEnumMembers }),
  };
}

/** POST .../operations (and its `$ref` and `/me` aliases): create an operation. */
export async function createOperation(api: ApiRequest): Promise<HttpResponseInit> {
  const { wire, teamId, caller } = api;
  const include = wire.preferences.includeUnknownEnumMembers;
  const body = parseCreateBody(await readJsonBody(api.request), include);
  const document = newOperationDocument(body, {
    tenantId: caller.tenantId,
    teamId,
    createdBy: createdBy(caller),
    ttlSeconds: api.config.operationTtlSeconds,
  });
  const store = await operationStore(() => api.config.cosmos);
  const stored = await store.create(document);
  const applied = [
    ...(wire.preferences.returnMinimal ? ["return=minimal"] : []),
    ...(include ? ["include-unknown-enum-members"] : []),
  ];
  const headers = {
    Location: absoluteUrl(wire, operationPath(teamId, stored.document.operationId)),
    ETag: etagHeader(stored.etag),
    ...preferenceApplied(applied),
  };
  if (wire.preferences.returnMinimal) return emptyResponse(204, wire, headers);
  return jsonResponse(201, entityBody(stored, wire, teamId), wire, headers);
}
