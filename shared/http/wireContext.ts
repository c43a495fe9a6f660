/** What every response needs to know about its request: its ids, the base URL and the client's preferences. */
import type { HttpRequest } from "@azure/functions";
import { parsePrefer, type Preferences } from "./preferences.js";
import { clientRequestIdOf } from "./requestIds.js";
import { originOf } from "./urls.js";

export interface WireContext {
  readonly requestId: string;
  /** The client's `client-request-id`, or one generated for it when it sent none (or one that is not a token). */
  readonly clientRequestId: string;
  /** Scheme and host the client used (or the configured public base URL), without a trailing slash. */
  readonly baseUrl: string;
  readonly preferences: Preferences;
}

export function wireContext(request: HttpRequest, requestId: string, publicBaseUrl: string | undefined): WireContext {
  return {
    requestId,
    clientRequestId: clientRequestIdOf(request.headers.get("client-request-id")),
    baseUrl: publicBaseUrl ?? originOf(request.url),
    preferences: parsePrefer(request.headers.get("prefer")),
  };
}

/** The wire context of a request the host refuses before any function sees it: only its ids are known. */
export function refusalWireContext(clientRequestId: string | undefined, requestId: string): WireContext {
  return {
    requestId,
    clientRequestId: clientRequestIdOf(clientRequestId),
    baseUrl: "",
    preferences: parsePrefer(null),
  };
}
