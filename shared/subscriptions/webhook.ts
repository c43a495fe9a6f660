/**
 * One POST to a receiver, with everything bounded: the address is checked
 * (addressPolicy.ts) and the socket connects to exactly that address (no
 * second DNS answer in between), redirects are not followed (a 3xx is a
 * failure), at most `MAX_RESPONSE_BYTES` of the answer are read, and the whole
 * exchange, connection included, ends at its deadline.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { trackWebhookCall, type WebhookCall } from "../telemetry.js";
import { checkUrlForm, RefusedTarget, resolveTarget, type AddressPolicy } from "./addressPolicy.js";

/** What is read of a receiver's answer: enough for a validation token, never a large body. */
export const MAX_RESPONSE_BYTES = 4096;

export interface WebhookResult {
  readonly status: number;
  readonly contentType: string;
  /** At most MAX_RESPONSE_BYTES of the body, as text. */
  readonly body: string;
}

/** Why a POST did not get an answer: refused before connecting, timed out, or a network failure. */
export class WebhookFailure extends Error {
  override readonly name = "WebhookFailure";
  constructor(
    message: string,
    readonly kind: "refused" | "timeout" | "network",
  ) {
    super(message);
  }
}

export interface PostOptions {
  readonly policy: AddressPolicy;
  readonly timeoutMs: number;
  readonly contentType: string;
  readonly body: string;
}

/**
 * What a POST to a receiver is for, as telemetry names it: the validation handshake carries its token in the query,
 * and a lifecycle notification its `lifecycleEvent`; anything else is a batch of change notifications.
 */
function purposeOf(target: string, body: string): WebhookCall["purpose"] {
  if (/[?&]validationToken=/.test(target)) return "validation";
  return body.includes('"lifecycleEvent"') ? "lifecycle" : "notification";
}

/** One POST to a receiver, reported as a dependency of the invocation (the URL without its query). */
export async function postToReceiver(target: string, options: PostOptions): Promise<WebhookResult> {
  const startTime = Date.now();
  const started = performance.now();
  const report = (statusCode: number | undefined, failure?: string) =>
    trackWebhookCall({
      url: target,
      purpose: purposeOf(target, options.body),
      startTime,
      durationMs: performance.now() - started,
      statusCode,
      failure,
    });
  try {
    const result = await post(target, options);
    report(result.status);
    return result;
  } catch (error) {
    report(undefined, error instanceof WebhookFailure ? error.kind : "error");
    throw error;
  }
}

async function post(target: string, options: PostOptions): Promise<WebhookResult> {
  let url: URL;
  let address;
  try {
    url = checkUrlForm(target, options.policy);
    address = await resolveTarget(url, options.policy);
  } catch (error) {
    if (error instanceof RefusedTarget) throw new WebhookFailure(error.message, "refused");
    throw error;
  }
  // The checked address, whatever the system resolver would say now.
  const pinned: LookupFunction = (_host, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all) {
      (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [address]);
    } else {
      callback(null, address.address, address.family);
    }
  };
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  const payload = Buffer.from(options.body, "utf8");
  return new Promise<WebhookResult>((resolve, reject) => {
    let settled = false;
    const finish = (error: WebhookFailure | undefined, result?: WebhookResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      if (error) reject(error);
      else resolve(result!);
    };
    const req = send(
      url,
      {
        method: "POST",
        lookup: pinned,
        agent: false,
        headers: {
          "content-type": options.contentType,
          "content-length": String(payload.length),
          "user-agent": "TeamOperationsAPI-Notifications/1.0",
        },
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let length = 0;
        const done = () =>
          finish(undefined, {
            status: res.statusCode ?? 0,
            contentType: String(res.headers["content-type"] ?? ""),
            body: Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString("utf8"),
          });
        res.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          length += chunk.length;
          if (length >= MAX_RESPONSE_BYTES) done();
        });
        res.on("end", done);
        res.on("error", () => done());
      },
    );
    const deadline = setTimeout(
      () => finish(new WebhookFailure(`no answer within ${options.timeoutMs / 1000} s`, "timeout")),
      options.timeoutMs,
    );
    req.on("error", (error) => finish(new WebhookFailure(`the connection failed (${error.message})`, "network")));
    req.end(payload);
  });
}
