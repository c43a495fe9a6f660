/** The ids a response carries about its request: Graph's `client-request-id`, echoed or made up. */
import { randomUUID } from "node:crypto";
import { VISIBLE_ASCII_ID } from "../ids.js";

/** The client's `client-request-id` when it sent one that is a token (1-128 visible ASCII characters), else a new GUID. */
export function clientRequestIdOf(header: string | null | undefined): string {
  return header && VISIBLE_ASCII_ID.test(header) ? header : randomUUID();
}
