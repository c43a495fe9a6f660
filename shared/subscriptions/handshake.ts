/**
 * Graph's validation handshake: before a subscription is created, each of
 * its URLs is sent `POST <url>?validationToken=<token>` and must answer 200
 * with the token, as text/plain, within the validation timeout (10 s, as
 * Graph). Anything else refuses the subscription (a 400) saying why.
 */
import { randomBytes } from "node:crypto";
import { InvalidInputError } from "../errors.js";
import type { AddressPolicy } from "./addressPolicy.js";
import { postToReceiver, WebhookFailure } from "./webhook.js";

export function withValidationToken(url: string, token: string): string {
  const parsed = new URL(url);
  parsed.searchParams.append("validationToken", token);
  return parsed.toString();
}

/** Why the endpoint failed the handshake, or undefined when it passed. */
export async function validationFailure(
  url: string,
  options: { readonly policy: AddressPolicy; readonly timeoutMs: number },
): Promise<string | undefined> {
  // Graph's tokens are opaque text with spaces and punctuation: receivers must URL-decode the query.
  const token = `Validation: ${randomBytes(24).toString("base64url")}`;
  let answer;
  try {
    answer = await postToReceiver(withValidationToken(url, token), {
      ...options,
      contentType: "text/plain; charset=utf-8",
      body: "",
    });
  } catch (error) {
    if (error instanceof WebhookFailure) return error.message;
    throw error;
  }
  if (answer.status !== 200) return `it answered ${answer.status}, not 200`;
  if (!/^text\/plain\b/i.test(answer.contentType)) {
    return `it answered with content type '${answer.contentType || "none"}', not text/plain`;
  }
  if (answer.body !== token) return "its answer was not the validation token it was sent (URL-decoded)";
  return undefined;
}

/** Runs the handshake on a subscription's URL; an InvalidInputError naming the property and why, when it fails. */
export async function requireValidatedEndpoint(
  property: "notificationUrl" | "lifecycleNotificationUrl",
  url: string,
  options: { readonly policy: AddressPolicy; readonly timeoutMs: number },
): Promise<void> {
  const why = await validationFailure(url, options);
  if (why === undefined) return;
  const message = `Subscription validation request failed: the ${property} did not pass the validation handshake: ${why}.`;
  throw new InvalidInputError(message, {
    target: property,
    details: [{ code: "invalidValue", target: property, message }],
  });
}
