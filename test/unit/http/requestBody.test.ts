/** Reading a request's JSON body within bounds: its media type, its size, a chunked body, then the guard. */
import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { MAX_BODY_BYTES, readBounded, readJsonBody } from "../../../shared/http/requestBody.js";
import { refusalOf } from "../../support/refusal.js";

const URL = "http://127.0.0.1:7071/v1.0/teams/t/operations";

function request(body: string | undefined, headers: Record<string, string> = {}): HttpRequest {
  return new HttpRequest({
    method: "POST",
    url: URL,
    headers: { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: { string: body } }),
  });
}

/** The parts of a request `readBounded` reads (its headers and body stream), with a body in the given chunks. */
function streamed(chunks: string[], headers: Record<string, string> = {}): HttpRequest {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
  return { headers: new Headers(headers), body } as unknown as HttpRequest;
}

describe("readJsonBody", () => {
  it("reads a JSON body", async () => {
    expect(await readJsonBody(request('{"operationType":"archiveTeam"}'))).toEqual({ operationType: "archiveTeam" });
  });

  it("refuses a body that does not say it is JSON with a 415", async () => {
    for (const type of [undefined, "text/plain", "application/json; charset=latin1"]) {
      const error = await refusalOf(() =>
        readJsonBody(new HttpRequest({ method: "POST", url: URL, headers: type ? { "content-type": type } : {} })),
      );
      expect(error.status, String(type)).toBe(415);
      expect(error.code).toBe("notSupported");
    }
  });

  it("refuses a body declared or found larger than the limit with a 413", async () => {
    const declared = await refusalOf(() =>
      readJsonBody(request("{}", { "content-length": String(MAX_BODY_BYTES + 1) })),
    );
    expect(declared.status).toBe(413);
    expect(declared.message).toBe(`The request body is larger than ${MAX_BODY_BYTES} bytes.`);
    const counted = await refusalOf(() => readJsonBody(request(`{"a":"${"x".repeat(40)}"}`), 16));
    expect(counted.status).toBe(413);
  });

  it("says a missing body was sent chunked when it was (411), and empty otherwise (400)", async () => {
    const chunked = await refusalOf(() => readJsonBody(request(undefined, { "transfer-encoding": "chunked" })));
    expect(chunked.status).toBe(411);
    expect(chunked.target).toBe("Transfer-Encoding");
    const empty = await refusalOf(() => readJsonBody(request(undefined)));
    expect(empty.status).toBe(400);
    expect(empty.message).toBe("The request body is empty; a JSON object is required.");
  });
});

describe("readBounded", () => {
  it("joins a body that arrives in several chunks", async () => {
    const bytes = await readBounded(streamed(['{"a"', ":", "1}"]), 100);
    expect(Buffer.from(bytes).toString("utf8")).toBe('{"a":1}');
  });

  it("stops reading once the declared bytes are in", async () => {
    const bytes = await readBounded(streamed(["12345", "678"], { "content-length": "5" }), 100);
    expect(Buffer.from(bytes).toString("utf8")).toBe("12345");
  });

  it("refuses once the chunks come to more than the limit", async () => {
    expect((await refusalOf(() => readBounded(streamed(["12345", "67890"]), 8))).status).toBe(413);
  });

  it("gives no bytes for a request without a body", async () => {
    expect((await readBounded(new HttpRequest({ method: "GET", url: URL }), 8)).byteLength).toBe(0);
  });
});
