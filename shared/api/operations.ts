/**
 * The HTTP handlers of the operations API. Each one reads the request, calls
 * the operation rules and the store, and writes Graph's answer.
 */
import { createHash } from "node:crypto";
import type { HttpResponseInit } from "@azure/functions";
import { createdBy } from "../auth/access.js";
import { InvalidContinuationError, PreconditionFailedError } from "../errors.js";
import { badRequest } from "../http/graphError.js";
import { parseCollectionQuery, parseCountQuery, parseItemQuery } from "../http/odata.js";
import type { ApiRequest } from "../http/pipeline.js";
import { etagHeader, parsePreconditions, preconditionMatches } from "../http/etags.js";
import { preferenceApplied } from "../http/preferences.js";
import { operationEntity } from "../http/operationEntity.js";
import { readJsonBody } from "../http/requestBody.js";
import { emptyResponse, jsonResponse, textResponse } from "../http/responses.js";
import { absoluteUrl } from "../http/urls.js";
import type { WireContext } from "../http/wireContext.js";
import {
  isFinished,
  toRepresentation,
  type RepresentationProperty,
  type StoredOperation,
} from "../operations/model.js";
import type { CollectionQuery } from "../operations/query.js";
import { bodyFingerprint, newOperationDocument, repeatableOperationId } from "../operations/rules.js";
import {
  createStoredOperation,
  deleteStoredOperation,
  updateStoredOperation,
  type Preconditions,
} from "../operations/service.js";
import { OPERATION_ID, parseCreateBody, parsePatchBody } from "../operations/schema.js";
import { VISIBLE_ASCII_ID } from "../ids.js";
import { telemetryScope } from "../telemetry.js";
import { operationNotFound, operationStore, type OperationStore } from "../store/operations.js";

const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

function store(api: ApiRequest): Promise<OperationStore> {
  return operationStore(api.config.cosmos);
}

function operationPath(teamId: string, operationId: string): string {
  return `/v1.0/teams/${teamId}/operations/${encodeURIComponent(operationId)}`;
}

function operationIdFrom(api: ApiRequest): string {
  const id = api.params.operationId ?? "";
  const scope = telemetryScope();
  if (scope) scope.operationId = id.slice(0, 128);
  if (!OPERATION_ID.test(id)) {
    throw badRequest("The operationId in the path is not a valid operation id.", {
      target: "operationId",
      details: [{ code: "invalidValue", target: "operationId", message: "1-128 letters, digits, '-', '_' or '.'." }],
    });
  }
  return id;
}

function applied(wire: WireContext, minimal: boolean): Record<string, string> {
  return preferenceApplied([
    ...(minimal && wire.preferences.returnMinimal ? ["return=minimal"] : []),
    ...(wire.preferences.includeUnknownEnumMembers ? ["include-unknown-enum-members"] : []),
  ]);
}

function entityBody(
  stored: StoredOperation,
  wire: WireContext,
  teamId: string,
  select?: readonly RepresentationProperty[],
): Record<string, unknown> {
  return operationEntity(
    stored,
    { baseUrl: wire.baseUrl, includeUnknownEnumMembers: wire.preferences.includeUnknownEnumMembers },
    teamId,
    select,
  );
}

/** 200 (or 204 with Prefer: return=minimal) with the operation and its ETag. */
function entityResponse(
  status: 200 | 201,
  stored: StoredOperation,
  api: ApiRequest,
  extra: Record<string, string> = {},
): HttpResponseInit {
  const { wire, teamId } = api;
  const headers = { ETag: etagHeader(stored.etag), ...applied(wire, true), ...extra };
  if (wire.preferences.returnMinimal) return emptyResponse(204, wire, headers);
  return jsonResponse(status, entityBody(stored, wire, teamId), wire, headers);
}

// ---------------------------------------------------------------- create

interface Repeatability {
  readonly requestId: string;
}

function repeatabilityFrom(api: ApiRequest): Repeatability | undefined {
  const requestId = api.request.headers.get("repeatability-request-id");
  const firstSent = api.request.headers.get("repeatability-first-sent");
  if (requestId === null) {
    if (firstSent !== null) throw badRequest("Repeatability-First-Sent needs Repeatability-Request-ID.");
    return undefined;
  }
  if (!VISIBLE_ASCII_ID.test(requestId)) {
    throw badRequest("Repeatability-Request-ID must be 1-128 visible ASCII characters (a GUID is best).", {
      target: "Repeatability-Request-ID",
    });
  }
  // Date.parse is lenient (31 Feb becomes 3 Mar): a real date formats back to exactly what was sent.
  if (firstSent !== null && (!IMF_FIXDATE.test(firstSent) || new Date(firstSent).toUTCString() !== firstSent)) {
    throw badRequest("Repeatability-First-Sent must be an HTTP date, like Sun, 06 Nov 1994 08:49:37 GMT.", {
      target: "Repeatability-First-Sent",
    });
  }
  return { requestId };
}

/** POST .../operations (and its `$ref` and `/me` aliases): create an operation, once per Repeatability-Request-ID. */
export async function createOperation(api: ApiRequest): Promise<HttpResponseInit> {
  const { wire, teamId, caller } = api;
  const repeatability = repeatabilityFrom(api);
  const body = parseCreateBody(await readJsonBody(api.request), wire.preferences.includeUnknownEnumMembers);
  const document = newOperationDocument(body, {
    tenantId: caller.tenantId,
    teamId,
    createdBy: createdBy(caller),
    ttlSeconds: api.config.operationTtlSeconds,
    defaultOperationId: repeatability && repeatableOperationId(caller.tenantId, teamId, repeatability.requestId),
  });
  const scope = telemetryScope();
  if (scope) scope.operationId = document.operationId;
  const fingerprint = repeatability && bodyFingerprint(body);
  if (repeatability && fingerprint) document.repeatability = { requestId: repeatability.requestId, fingerprint };

  const { stored } = await createStoredOperation(await store(api), document);
  const headers: Record<string, string> = {
    Location: absoluteUrl(wire, operationPath(teamId, stored.document.operationId)),
  };
  if (repeatability) headers["Repeatability-Result"] = "accepted";
  return entityResponse(201, stored, api, headers);
}

// ---------------------------------------------------------------- preconditions

/**
 * A request's If-Match and If-None-Match, as tests of the stored ETag (RFC 9110, section 13.1): If-Match compares
 * strongly and `*` matches any existing operation (the same as none: a missing one is a 404 either way, since
 * preconditions are not weighed where the answer would not be a success); If-None-Match compares weakly, and `*`
 * matches any existing one.
 */
function preconditionsOf(api: ApiRequest): Preconditions {
  const ifMatch = parsePreconditions("If-Match", api.request.headers.get("if-match"));
  const ifNoneMatch = parsePreconditions("If-None-Match", api.request.headers.get("if-none-match"));
  return {
    ifMatch: ifMatch && ifMatch !== "*" ? (etag) => preconditionMatches(ifMatch, etag, true) : undefined,
    ifNoneMatch: ifNoneMatch ? (etag) => preconditionMatches(ifNoneMatch, etag, false) : undefined,
  };
}

// ---------------------------------------------------------------- read

/**
 * GET .../operations/{id}: the operation ($select honoured), Retry-After while it runs. Preconditions as RFC 9110
 * section 13.2.2 weighs them: an If-Match that names another version is a 412; then an If-None-Match that matches
 * (the current ETag, or `*`) is a 304.
 */
export async function getOperation(api: ApiRequest): Promise<HttpResponseInit> {
  const operationId = operationIdFrom(api);
  const { select } = parseItemQuery(new URL(api.request.url).searchParams);
  const { ifMatch, ifNoneMatch } = preconditionsOf(api);
  const stored = await (await store(api)).read(api.caller.tenantId, api.teamId, operationId);
  if (!stored) throw operationNotFound();
  if (ifMatch && !ifMatch(stored.etag)) throw new PreconditionFailedError();
  const running = !isFinished(stored.document.status);
  const headers: Record<string, string> = {
    ETag: etagHeader(stored.etag),
    ...(running ? { "Retry-After": String(api.config.retryAfterSeconds) } : {}),
  };
  if (ifNoneMatch?.(stored.etag)) return emptyResponse(304, api.wire, headers);
  return jsonResponse(200, entityBody(stored, api.wire, api.teamId, select), api.wire, {
    ...headers,
    ...applied(api.wire, false),
  });
}

// ---------------------------------------------------------------- list

/** Binds a Cosmos continuation to the tenant, team and query it belongs to. */
function queryScope(api: ApiRequest, query: CollectionQuery): string {
  return createHash("sha256")
    .update(JSON.stringify([api.caller.tenantId, api.teamId, query.filter ?? null, query.orderBy ?? null]))
    .digest("base64url")
    .slice(0, 22);
}

function encodeSkipToken(scope: string, continuation: string): string {
  return Buffer.from(JSON.stringify({ s: scope, c: continuation })).toString("base64url");
}

/**
 * A store continuation as the store issues them: visible ASCII. Anything else could not even be sent in the
 * request header that carries it (a NUL, a line break, a character outside Latin-1), and is not ours.
 */
const CONTINUATION = /^[\x20-\x7e]{1,6000}$/;

function decodeSkipToken(scope: string, token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  try {
    const bytes = Buffer.from(token, "base64url");
    // Buffer skips characters that are not base64url: a token must be exactly what we wrote.
    if (bytes.toString("base64url") !== token) throw new InvalidContinuationError();
    const parsed = JSON.parse(bytes.toString("utf8")) as { s?: unknown; c?: unknown };
    if (parsed.s === scope && typeof parsed.c === "string" && CONTINUATION.test(parsed.c)) return parsed.c;
  } catch {
    // fall through to the refusal
  }
  throw new InvalidContinuationError();
}

function nextLink(api: ApiRequest, skipToken: string): string {
  const url = new URL(api.request.url);
  const params = new URLSearchParams(url.search);
  params.delete("$skiptoken");
  params.set("$skiptoken", skipToken);
  // OData clients expect `$` unescaped in query option names.
  return absoluteUrl(api.wire, `${url.pathname}?${params.toString().replace(/%24/g, "$")}`);
}

/** GET .../operations: an OData collection with $filter, $orderby, $select, $top, $count and server paging. */
export async function listOperations(api: ApiRequest): Promise<HttpResponseInit> {
  const { wire, teamId, caller } = api;
  const query = parseCollectionQuery(new URL(api.request.url).searchParams, wire.preferences.includeUnknownEnumMembers);
  const scope = queryScope(api, query);
  const continuation = decodeSkipToken(scope, query.skipToken);
  // A continuation the store refuses is an InvalidContinuationError too: the client's 400 for its $skiptoken.
  const page = await (
    await store(api)
  ).query(caller.tenantId, teamId, {
    filter: query.filter,
    orderBy: query.orderBy,
    top: query.top,
    continuation,
    count: query.count,
  });
  const selected = query.select ? `(${query.select.join(",")})` : "";
  const body: Record<string, unknown> = {
    "@odata.context": absoluteUrl(wire, `/v1.0/$metadata#teams('${teamId}')/operations${selected}`),
  };
  if (page.count !== undefined) body["@odata.count"] = page.count;
  if (page.continuation) body["@odata.nextLink"] = nextLink(api, encodeSkipToken(scope, page.continuation));
  body.value = page.operations.map(({ document, etag }) => ({
    "@odata.etag": etagHeader(etag),
    ...toRepresentation(document, {
      includeUnknownEnumMembers: wire.preferences.includeUnknownEnumMembers,
      select: query.select,
    }),
  }));
  return jsonResponse(200, body, wire, applied(wire, false));
}

/** GET .../operations/$count: how many operations the same $filter would list, as text/plain. */
export async function countOperations(api: ApiRequest): Promise<HttpResponseInit> {
  const { wire, teamId, caller } = api;
  const query = parseCountQuery(new URL(api.request.url).searchParams, wire.preferences.includeUnknownEnumMembers);
  const count = await (await store(api)).count(caller.tenantId, teamId, query.filter);
  return textResponse(200, String(count), wire, applied(wire, false));
}

// ---------------------------------------------------------------- update

/**
 * PATCH .../operations/{id}: change an operation under the state rules. If-Match pins the change to a version;
 * If-None-Match refuses it when it matches (412).
 */
export async function updateOperation(api: ApiRequest): Promise<HttpResponseInit> {
  const operationId = operationIdFrom(api);
  const preconditions = preconditionsOf(api);
  const changes = parsePatchBody(await readJsonBody(api.request), api.wire.preferences.includeUnknownEnumMembers);
  const key = { tenantId: api.caller.tenantId, teamId: api.teamId, operationId };
  const { stored } = await updateStoredOperation(await store(api), key, changes, {
    ttlSeconds: api.config.operationTtlSeconds,
    ...preconditions,
  });
  return entityResponse(200, stored, api);
}

// ---------------------------------------------------------------- delete

/** DELETE .../operations/{id}: 204, honouring If-Match and If-None-Match as PATCH does; 404 when it does not exist. */
export async function deleteOperation(api: ApiRequest): Promise<HttpResponseInit> {
  const operationId = operationIdFrom(api);
  const preconditions = preconditionsOf(api);
  const key = { tenantId: api.caller.tenantId, teamId: api.teamId, operationId };
  await deleteStoredOperation(await store(api), key, { ttlSeconds: api.config.operationTtlSeconds, ...preconditions });
  return emptyResponse(204, api.wire);
}
