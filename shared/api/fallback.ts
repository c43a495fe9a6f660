/**
 * What answers when no function's route and method match: Graph's 405 (with
 * `Allow`) for a known path, Graph's 404 otherwise.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { ErrorCode, GraphError } from "../http/graphError.js";
import { withGraphErrors } from "../http/pipeline.js";
import { allowedMethods } from "../http/routes.js";

export function fallback(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withGraphErrors(request, context, () => {
    const path = request.params.path ?? "";
    const allowed = allowedMethods(path);
    if (allowed) {
      throw new GraphError(405, ErrorCode.notSupported, `${request.method} is not supported here.`, {
        headers: { Allow: allowed.join(", ") },
      });
    }
    throw new GraphError(404, ErrorCode.notFound, `No resource at /v1.0/${path.slice(0, 200)}.`);
  });
}
