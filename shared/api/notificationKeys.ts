/**
 * GET /discovery/keys: the JSON Web Key Set that checks the validation tokens of notifications with resource data,
 * as Entra ID's `discovery/v2.0/keys` checks Graph's. No token is needed (a receiver has none to give); the keys are
 * public, and the answer is what the signer has already read (signingKeys.ts keeps it for minutes), so anonymous
 * calls cannot reach the vault faster than that.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { config } from "../config.js";
import { withGraphErrors } from "../http/pipeline.js";
import { jsonResponse } from "../http/responses.js";
import { KEY_SET_MAX_AGE_SECONDS, notificationSigner } from "../subscriptions/signingKeys.js";

export function notificationKeys(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return withGraphErrors(request, context, async (wire) => {
    const signer = notificationSigner(config().notificationSigning);
    const keys = signer ? await signer.publishedKeys() : [];
    return jsonResponse(200, { keys }, wire, { "Cache-Control": `public, max-age=${KEY_SET_MAX_AGE_SECONDS}` });
  });
}
