import { expect } from "vitest";

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: any;
}

export async function call(
  url: string,
  init: {
    method?: string;
    token?: string;
    body?: unknown;
    rawBody?: string | Uint8Array;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | Uint8Array | undefined = init.rawBody;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(url, { method: init.method ?? "GET", headers, body, signal: init.signal });
  const text = await response.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Checks a Graph error: status, code, the documented shape and the request id it carries. */
export function expectGraphError(response: ApiResponse, status: number, code: string): any {
  expect(response.status, response.text).toBe(status);
  const error = response.json?.error;
  expect(error, response.text).toBeDefined();
  expect(error.code).toBe(code);
  expect(typeof error.message).toBe("string");
  expect(error.message.length).toBeGreaterThan(0);
  expect(error.innerError["request-id"]).toBe(response.headers.get("request-id"));
  // Graph's headers on every response: the client's request id (or a generated one) in headers and innerError.
  expect(error.innerError["client-request-id"]).toBe(response.headers.get("client-request-id"));
  expect(error.innerError["client-request-id"]).toMatch(/^[\x21-\x7e]{1,128}$/);
  expect(response.headers.get("odata-version")).toBe("4.0");
  expect(error.innerError.date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  for (const detail of error.details ?? []) {
    expect(typeof detail.code).toBe("string");
    expect(typeof detail.message).toBe("string");
  }
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  return error;
}

export function detailTargets(error: any): string[] {
  return (error.details ?? []).map((d: { target: string }) => d.target);
}

export const TEAM = "3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f";
export const OTHER_TEAM = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
export const OTHER_TENANT = "e1e1e1e1-0000-4000-8000-000000000002";
