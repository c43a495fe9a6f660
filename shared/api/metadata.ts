/**
 * What describes the API, anonymous as Graph's are: the CSDL at `$metadata`
 * (every `@odata.context` points there), the service document at the root,
 * and the OpenAPI description of the registered routes.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { csdlDocument } from "../operations/csdl.js";
import { openApiDocument } from "../http/openapi.js";
import { withGraphErrors } from "../http/pipeline.js";
import { registeredRoutes } from "../http/routes.js";
import { baseHeaders, jsonResponse } from "../http/responses.js";
import { absoluteUrl } from "../http/urls.js";

let csdl: string | undefined;
let openApiText: string | undefined;

/** GET /v1.0/$metadata: the CSDL, generated once per process. */
export function metadata(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withGraphErrors(request, context, (wire) => {
    csdl ??= csdlDocument();
    return Promise.resolve({
      status: 200,
      headers: { ...baseHeaders(wire), "Content-Type": "application/xml;charset=utf-8" },
      body: csdl,
    });
  });
}

/** GET /v1.0/openapi.json: the OpenAPI description of the routes registered in this process (all of them by the first request). */
export function openApi(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withGraphErrors(request, context, (wire) =>
    Promise.resolve({
      status: 200,
      headers: { ...baseHeaders(wire), "Content-Type": "application/json;charset=utf-8" },
      body: (openApiText ??= `${JSON.stringify(openApiDocument(registeredRoutes()), null, 2)}\n`),
    }),
  );
}

/** The entity sets and singletons a client can start from, as `GET /v1.0/` lists them. */
export const SERVICE_ROOTS = [
  { name: "teams", kind: "EntitySet", url: "teams" },
  { name: "groups", kind: "EntitySet", url: "groups" },
  { name: "users", kind: "EntitySet", url: "users" },
  { name: "subscriptions", kind: "EntitySet", url: "subscriptions" },
  { name: "me", kind: "Singleton", url: "me" },
] as const;

/** GET /v1.0/: the OData service document. */
export function serviceDocument(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withGraphErrors(request, context, (wire) =>
    Promise.resolve(
      jsonResponse(200, { "@odata.context": absoluteUrl(wire, "/v1.0/$metadata"), value: SERVICE_ROOTS }, wire),
    ),
  );
}
