/**
 * What answers when no function's route and method match: the service
 * document at the root; a path in OData key syntax (`teams('{id}')/...`),
 * handed to the route its path-segment form names, with that form's
 * parameters; Graph's 405 (with `Allow`) for a known path with another
 * method; Graph's 404 otherwise. The host routes every unmatched request
 * here, in Azure and in the local runner alike, so key syntax needs no route
 * templates of its own.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { graphError, notFound } from "../http/graphError.js";
import { fromKeySyntax } from "../http/keySyntax.js";
import { withGraphErrors } from "../http/pipeline.js";
import { allowedMethods, matchRoute } from "../http/routes.js";
import { serviceDocument } from "./metadata.js";

export function fallback(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const path = (request.params.path ?? "").replace(/\/$/, "");
  if (path === "" && request.method === "GET") return serviceDocument(request, context);
  const canonical = fromKeySyntax(path);
  const match = canonical === undefined ? undefined : matchRoute(canonical, request.method);
  if (match) return match.route.handler(request, context, match.params);
  return withGraphErrors(request, context, () => {
    const allowed = path === "" ? ["GET"] : allowedMethods(canonical ?? path);
    if (allowed) {
      throw graphError("methodNotAllowed", `${request.method} is not supported here.`, {
        headers: { Allow: allowed.join(", ") },
      });
    }
    throw notFound(`No resource at /v1.0/${path.slice(0, 200)}.`);
  });
}
