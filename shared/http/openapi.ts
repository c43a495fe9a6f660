/**
 * The OpenAPI 3.0 description of the API (`GET /v1.0/openapi.json`, and
 * `docs/openapi.json`, written by `npm run openapi`), generated from the
 * routes as they were registered (`routes.ts`) and from the JSON Schemas the
 * validators are compiled from (`schemas.ts`): its paths are exactly the
 * registered routes, its request bodies exactly what the validators accept.
 * Pure: the same routes and schemas give the same document.
 */
import { ENTITY_TYPE, SORTABLE_PROPERTIES } from "../operations/model.js";
import { ENUM_TYPES } from "../operations/csdl.js";
import { createOperationSchema, representationSchema, updateOperationSchema } from "../operations/schemas.js";
import { MAX_SORT_KEYS, PAGE_SIZE } from "./odata.js";
import type { RegisteredRoute, RouteInfo } from "./routes.js";
import { TEAM_PATHS } from "./teamPaths.js";

type Json = Record<string, unknown>;

const GUID_PARAMS = new Set(["teamId", "groupId", "subscriptionId"]);

/** The path parameters by the names Graph's OpenAPI gives them (the route templates keep their own). */
const GRAPH_PARAMETER_NAMES: Readonly<Record<string, string>> = {
  teamId: "team-id",
  groupId: "group-id",
  userId: "user-id",
  operationId: "teamsAsyncOperation-id",
  subscriptionId: "subscription-id",
};

const parameterName = (name: string) => GRAPH_PARAMETER_NAMES[name] ?? name;

/** A route template as an OpenAPI path, with Graph's parameter names: `/teams/{team-id}/operations`. */
export function openApiPath(route: string): string {
  return `/${route.replace(/\{(\w+)\}/g, (_, name: string) => `{${parameterName(name)}}`)}`;
}

/** What Graph's OpenAPI calls each operations action, after the team path's prefix. */
const ACTION_OPERATION_IDS: Readonly<Record<NonNullable<RouteInfo["operations"]>["action"], string>> = {
  list: "ListOperations",
  create: "CreateOperations",
  get: "GetOperations",
  update: "UpdateOperations",
  delete: "DeleteOperations",
  count: "",
};

/**
 * The operationId of a route: Graph's own for the operations (`teams.ListOperations`,
 * `teams.operations.GetCount-66af`) and subscriptions (`subscriptions.subscription.GetSubscription`); the
 * function's name for the routes Graph's OpenAPI does not have.
 */
export function operationIdOf(route: RegisteredRoute): string {
  const operations = route.info.operations;
  if (!operations) return (route.info.openApi?.operationId as string | undefined) ?? route.name;
  const ids = TEAM_PATHS[operations.teamPath].operationIds;
  if (operations.action === "count") return ids.count;
  if (operations.alias) return `${ids.prefix}.operations.CreateRef`;
  return `${ids.prefix}.${ACTION_OPERATION_IDS[operations.action]}`;
}

/**
 * A JSON Schema of `schemas.ts` as an OpenAPI 3.0 Schema Object: `type: [t, "null"]` becomes `nullable`,
 * `const` a one-member `enum`, and the formats checked in code (`graph-date-time`) the standard `date-time`.
 */
export function toOpenApiSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toOpenApiSchema);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$id") continue;
    if (key === "type" && Array.isArray(value)) {
      const types = value.filter((t) => t !== "null");
      out.type = types.length === 1 ? types[0] : types;
      if (types.length < value.length) out.nullable = true;
    } else if (key === "const") {
      out.enum = [value];
    } else if (key === "allOf" && Array.isArray(value) && value.every((s: Json) => "format" in s)) {
      out.format = "date-time";
    } else if (key === "properties") {
      out.properties = Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, toOpenApiSchema(v)]));
    } else {
      out[key] = toOpenApiSchema(value);
    }
  }
  return out;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const response = (name: string) => ({ $ref: `#/components/responses/${name}` });
const parameter = (name: string) => ({ $ref: `#/components/parameters/${name}` });

function components(): Json {
  const representation = toOpenApiSchema(representationSchema) as Json;
  // An answer may leave out any property ($select): none is required of it.
  delete representation.required;
  const properties = representation.properties as Json;
  // The enums by their Graph names, with every member (unknownFutureValue and what follows it included).
  for (const [property, { name }] of Object.entries(ENUM_TYPES)) properties[property] = ref(`microsoft.graph.${name}`);
  properties.error = { ...ref("microsoft.graph.operationError") };
  const entity = {
    allOf: [
      {
        type: "object",
        properties: {
          "@odata.type": { type: "string", enum: [ENTITY_TYPE] },
          "@odata.etag": { type: "string", description: "The entity's ETag, as the ETag header gives it." },
        },
      },
      representation,
    ],
  };
  const error = toOpenApiSchema(createOperationSchema.properties.error) as Json;
  return {
    schemas: {
      "microsoft.graph.teamsAsyncOperation": entity,
      "microsoft.graph.operationError": { ...error, nullable: true },
      ...Object.fromEntries(
        Object.values(ENUM_TYPES).map(({ name, members }) => [
          `microsoft.graph.${name}`,
          {
            type: "string",
            enum: [...members],
            description: "An evolvable enum: see Prefer: include-unknown-enum-members.",
          },
        ]),
      ),
      "microsoft.graph.teamsAsyncOperationCollectionResponse": {
        type: "object",
        properties: {
          "@odata.context": { type: "string" },
          "@odata.count": { type: "integer", format: "int64" },
          "@odata.nextLink": { type: "string", nullable: true },
          value: { type: "array", items: ref("microsoft.graph.teamsAsyncOperation") },
        },
      },
      "microsoft.graph.createTeamsAsyncOperation": toOpenApiSchema(createOperationSchema),
      "microsoft.graph.updateTeamsAsyncOperation": toOpenApiSchema(updateOperationSchema),
      "microsoft.graph.ODataErrors.ODataError": {
        type: "object",
        required: ["error"],
        properties: {
          error: {
            type: "object",
            required: ["code", "message"],
            properties: {
              code: { type: "string" },
              message: { type: "string" },
              target: { type: "string" },
              details: {
                type: "array",
                items: {
                  type: "object",
                  properties: { code: { type: "string" }, message: { type: "string" }, target: { type: "string" } },
                },
              },
              innerError: {
                type: "object",
                properties: {
                  date: { type: "string" },
                  "request-id": { type: "string" },
                  "client-request-id": { type: "string" },
                },
              },
            },
          },
        },
      },
    },
    responses: {
      error: {
        description: "A Graph error: code, message, target, details and innerError.",
        content: { "application/json": { schema: ref("microsoft.graph.ODataErrors.ODataError") } },
      },
    },
    parameters: {
      prefer: {
        name: "Prefer",
        in: "header",
        description: "return=minimal (204 on create and update) and include-unknown-enum-members.",
        schema: { type: "string" },
      },
      ifMatch: { name: "If-Match", in: "header", description: "* or quoted ETags.", schema: { type: "string" } },
      ifNoneMatch: {
        name: "If-None-Match",
        in: "header",
        description: "Quoted ETags: 304 when one matches.",
        schema: { type: "string" },
      },
      clientRequestId: {
        name: "client-request-id",
        in: "header",
        description: "Echoed in the response and in innerError; generated when absent.",
        schema: { type: "string" },
      },
      select: {
        name: "$select",
        in: "query",
        style: "form",
        explode: false,
        schema: { type: "array", items: { type: "string", enum: Object.keys(representationSchema.properties) } },
      },
      filter: { name: "$filter", in: "query", schema: { type: "string" } },
      orderby: {
        name: "$orderby",
        in: "query",
        description: `Order items by one or two property values (${SORTABLE_PROPERTIES.join(", ")}), each asc or desc.`,
        style: "form",
        explode: false,
        schema: {
          type: "array",
          uniqueItems: true,
          maxItems: MAX_SORT_KEYS,
          items: {
            type: "string",
            enum: SORTABLE_PROPERTIES.flatMap((p) => [p, `${p} asc`, `${p} desc`]),
          },
        },
      },
      top: { name: "$top", in: "query", schema: { type: "integer", minimum: 1, maximum: PAGE_SIZE.max } },
      count: { name: "$count", in: "query", schema: { type: "boolean" } },
      skiptoken: { name: "$skiptoken", in: "query", schema: { type: "string" } },
    },
    securitySchemes: {
      bearer: {
        type: "http",
        scheme: "bearer",
        bearerFormat: "JWT",
        description: "A Microsoft Entra ID access token for this API (TeamsAsyncOperation.* permissions).",
      },
    },
  };
}

const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [String(s), response("error")]));

const ETAG_HEADER = { ETag: { schema: { type: "string" }, description: "A quoted strong entity tag." } };

function operationsResponses(action: NonNullable<RouteInfo["operations"]>["action"]): Json {
  const entity = {
    content: { "application/json": { schema: ref("microsoft.graph.teamsAsyncOperation") } },
    headers: ETAG_HEADER,
  };
  const common = errors(400, 401, 403, 404, 429, 503);
  switch (action) {
    case "list":
      return {
        "200": {
          description: "A page of operations.",
          content: { "application/json": { schema: ref("microsoft.graph.teamsAsyncOperationCollectionResponse") } },
        },
        ...common,
      };
    case "count":
      return {
        "200": {
          description: "How many operations match.",
          content: { "text/plain": { schema: { type: "integer", format: "int64" } } },
        },
        ...common,
      };
    case "create":
      return {
        "201": {
          description: "Created.",
          ...entity,
          headers: { ...ETAG_HEADER, Location: { schema: { type: "string" } } },
        },
        "204": { description: "Created (Prefer: return=minimal).", headers: ETAG_HEADER },
        ...common,
        ...errors(409, 413, 415),
      };
    case "get":
      return {
        "200": {
          description: "The operation.",
          ...entity,
          headers: {
            ...ETAG_HEADER,
            "Retry-After": { schema: { type: "integer" }, description: "Seconds; only while it runs." },
          },
        },
        "304": { description: "Not modified (If-None-Match)." },
        ...common,
      };
    case "update":
      return {
        "200": { description: "The changed operation.", ...entity },
        "204": { description: "Changed (Prefer: return=minimal).", headers: ETAG_HEADER },
        ...common,
        ...errors(409, 412, 413, 415),
      };
    case "delete":
      return { "204": { description: "Deleted." }, ...common, ...errors(412) };
  }
}

function operationsParameters(action: NonNullable<RouteInfo["operations"]>["action"]): unknown[] {
  const query = {
    list: ["filter", "orderby", "select", "top", "count", "skiptoken"],
    count: ["filter"],
    get: ["select", "ifNoneMatch"],
    create: [],
    update: ["ifMatch"],
    delete: ["ifMatch"],
  }[action];
  return [...query, "prefer", "clientRequestId"].map(parameter);
}

function operationObject(route: RegisteredRoute): Json {
  const { info } = route;
  const pathParams = route.params.map((name) => ({
    name: parameterName(name),
    in: "path",
    required: true,
    schema: GUID_PARAMS.has(name) ? { type: "string", format: "uuid" } : { type: "string" },
  }));
  const operation: Json = {
    operationId: operationIdOf(route),
    summary: info.summary,
    tags: [info.operations ? "operations" : "service"],
    parameters: pathParams,
  };
  if (info.anonymous) operation.security = [];
  if (info.operations) {
    const { action, teamPath, alias } = info.operations;
    operation.description = `Reached through ${teamPath}${alias ? " (an alias)" : ""}; needs ${
      info.operations.access === "write"
        ? "TeamsAsyncOperation.ReadWrite(.All)"
        : "TeamsAsyncOperation.Read(.All) or ReadWrite(.All)"
    }.`;
    operation.parameters = [...pathParams, ...operationsParameters(action)];
    if (action === "create" || action === "update") {
      operation.requestBody = {
        required: true,
        content: {
          "application/json": {
            schema: ref(`microsoft.graph.${action === "create" ? "create" : "update"}TeamsAsyncOperation`),
          },
        },
      };
    }
    operation.responses = operationsResponses(action);
  } else if (info.openApi) {
    Object.assign(operation, info.openApi, {
      parameters: [...pathParams, ...((info.openApi.parameters as unknown[] | undefined) ?? [])],
    });
  } else {
    const content =
      info.produces === "xml"
        ? { "application/xml": { schema: { type: "string" } } }
        : { "application/json": { schema: { type: "object" } } };
    operation.responses = {
      "200": { description: "OK.", content },
      ...(route.name === "health" ? { "503": { description: "The store does not answer.", content } } : {}),
    };
  }
  return operation;
}

/** The OpenAPI document for these routes. */
export function openApiDocument(routes: readonly RegisteredRoute[]): Json {
  const paths: Record<string, Json> = {};
  for (const route of [...routes].sort((a, b) => a.route.localeCompare(b.route))) {
    const path = (paths[openApiPath(route.route)] ??= {});
    for (const method of route.methods) path[method.toLowerCase()] = operationObject(route);
  }
  return {
    openapi: "3.0.3",
    info: {
      title: "Team Operations API",
      version: "v1.0",
      description:
        "A Microsoft Graph-compatible API for teamsAsyncOperation records. Every path also answers in OData key syntax (teams('{teamId}')/operations('{operationId}')); the CSDL is at $metadata.",
    },
    servers: [{ url: "/v1.0" }],
    security: [{ bearer: [] }],
    tags: [
      { name: "operations", description: "teamsAsyncOperation records, under every path Graph reaches them by." },
      { name: "subscriptions", description: "Change-notification subscriptions to a team's operations (webhooks)." },
      { name: "service", description: "Metadata and health." },
    ],
    paths,
    components: components(),
  };
}
