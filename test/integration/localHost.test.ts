/**
 * The local host runs an app as the Functions host and the Node.js worker do,
 * shown on a small app of its own (test/fixtures/hooked-app, loaded from its
 * package.json `main` like any app): the app's hooks run where the worker runs
 * them; requests reach handlers and responses leave them exactly as
 * `@azure/functions` converts them (compared with the library's own
 * HttpResponse); a queue message's trigger metadata reaches the handler as in
 * Azure, and output bindings are written as the host writes them. With HTTP
 * streams on (test/fixtures/streaming-app), requests are forwarded to the
 * library's proxy in the worker and its answer relayed, as the host does.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpResponse, type HttpResponseInit } from "@azure/functions";
import { QueueClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzuriteQueue, type Azurite } from "../../local/azurite.js";
import { freePort, PROJECT_ROOT, spawnRunner, type Runner } from "../support/stack.js";

const APP = join(PROJECT_ROOT, "test/fixtures/hooked-app");
/** Headers node:http adds to every response; everything else comes from the function. */
const TRANSPORT = new Set(["date", "connection", "keep-alive", "content-length", "transfer-encoding"]);

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A POST whose body is sent in two chunks ("first part, second part"), without a Content-Length. */
function chunkedPost(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "POST" }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.write("first part, ");
    req.end("second part");
  });
}

describe("the local host, on an app of its own", () => {
  let azurite: Azurite;
  let runner: Runner;
  let baseUrl: string;
  const dir = mkdtempSync(join(tmpdir(), "teamops-host-"));
  const traceFile = join(dir, "hooks.log");

  beforeAll(async () => {
    azurite = await startAzuriteQueue(await freePort());
    runner = await spawnRunner({
      AzureWebJobsScriptRoot: APP,
      AzureWebJobsStorage: azurite.connectionString,
      COSMOS_ENDPOINT: "http://127.0.0.1:1/",
      TEAMOPS_DEV_DIR: dir,
      HOOK_TRACE_FILE: traceFile,
      FIXTURE_TIMER_SCHEDULE: "*/2 * * * * *",
    });
    baseUrl = runner.baseUrl;
  });
  afterAll(async () => {
    await runner?.stop();
    await azurite?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const respond = (init: Record<string, unknown>) =>
    fetch(`${baseUrl}/respond`, { method: "POST", body: JSON.stringify(init) });

  it("serves the app's own route prefix and runs its appStart hook once, before any invocation", async () => {
    expect(baseUrl).toMatch(/\/api$/);
    expect(readFileSync(traceFile, "utf8")).toBe("appStart\n");
  });

  it("runs the app's preInvocation and postInvocation hooks around each invocation", async () => {
    const res = await respond({ status: 201, body: "made" });
    expect(res.status).toBe(201);
    expect(await res.text()).toBe("made");
    // The preInvocation hook saw the function and its one input (the request); postInvocation changed the result.
    expect(res.headers.get("x-hooks")).toBe("pre=respond; inputs=1; appStart=true");
  });

  it("writes status, headers and bodies exactly as the library converts the handler's response", async () => {
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80]);
    const cases: Array<{ sent: Record<string, unknown>; init: HttpResponseInit }> = [
      {
        sent: { status: 202, headers: { "X-Custom": "a", "content-type": "text/csv" }, body: "a,b\n1,2" },
        init: { status: 202, headers: { "X-Custom": "a", "content-type": "text/csv" }, body: "a,b\n1,2" },
      },
      { sent: { jsonBody: { a: [1, "é"], b: null } }, init: { jsonBody: { a: [1, "é"], b: null } } },
      { sent: { body: "plain" }, init: { body: "plain" } },
      { sent: { status: 204, headers: { etag: '"x"' } }, init: { status: 204, headers: { etag: '"x"' } } },
      {
        sent: {
          headers: [
            ["x-multi", "1"],
            ["x-multi", "2"],
          ],
          bodyBase64: bytes.toString("base64"),
        },
        init: {
          headers: [
            ["x-multi", "1"],
            ["x-multi", "2"],
          ],
          body: new Uint8Array(bytes),
        },
      },
    ];
    for (const { sent, init } of cases) {
      const expected = new HttpResponse(init);
      const res = await respond(sent);
      expect(res.status, JSON.stringify(sent)).toBe(expected.status);
      const actual = Object.fromEntries([...res.headers].filter(([name]) => !TRANSPORT.has(name)));
      expect(actual).toEqual({
        ...Object.fromEntries(expected.headers),
        "x-hooks": "pre=respond; inputs=1; appStart=true",
      });
      expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from(await expected.arrayBuffer()));
    }
  });

  it("hands the handler the method, URL, headers, query, route values and the body's bytes", async () => {
    const body = Buffer.from([0xff, 0x00, 0x7b, 0x22]);
    const res = await fetch(`${baseUrl}/echo/42/a%2Fb/c?x=1&x=2&Y=3&empty=`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", "x-one": "1", "client-request-id": "abc" },
      body,
    });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Record<string, any>;
    expect(seen.method).toBe("PUT");
    expect(seen.url).toBe(`${baseUrl}/echo/42/a%2Fb/c?x=1&x=2&Y=3&empty=`);
    expect(seen.params).toEqual({ id: "42", rest: "a%2Fb/c" });
    // ASP.NET's query collection: repeated values joined with ','.
    expect(seen.query).toEqual([
      ["x", "1,2"],
      ["Y", "3"],
      ["empty", ""],
    ]);
    expect(seen.headers).toMatchObject({
      "content-type": "application/octet-stream",
      "x-one": "1",
      "client-request-id": "abc",
      "content-length": "4",
    });
    expect(Buffer.from(seen.body, "base64")).toEqual(body);
    // The library keeps trigger metadata away from HTTP handlers.
    expect(seen.triggerMetadata).toBeNull();
  });

  it("does not hand a chunked request body to the function, as Azure's host does not", async () => {
    const answer = await chunkedPost(`${baseUrl}/echo/1/x`);
    expect(answer.status).toBe(200);
    const echoed = JSON.parse(answer.body) as { body: string; headers: Record<string, string> };
    expect(echoed.headers["transfer-encoding"]).toBe("chunked");
    expect(echoed.body).toBe("");
  });

  describe("queue triggers and outputs", () => {
    let inbox: QueueClient;
    let reports: QueueClient;
    beforeAll(async () => {
      inbox = new QueueClient(azurite.connectionString, "fixture-inbox");
      reports = new QueueClient(azurite.connectionString, "fixture-reports");
      await Promise.all([inbox.createIfNotExists(), reports.createIfNotExists()]);
    });

    const nextReport = () =>
      waitFor(async () => {
        const { receivedMessageItems } = await reports.receiveMessages({ numberOfMessages: 1 });
        const item = receivedMessageItems[0];
        if (!item) return undefined;
        await reports.deleteMessage(item.messageId, item.popReceipt);
        return Buffer.from(item.messageText, "base64").toString("utf8");
      }, "a report");
    /** Azure Storage keeps seconds; the host writes a DateTimeOffset as Json.NET does. */
    const asHostWrites = (date: Date | undefined) => date!.toISOString().replace(/\.000Z$/, "+00:00");

    it("gives the handler the message and its metadata as Azure does, and writes the output as the host does", async () => {
      const message = { hello: "queue", n: 1 };
      const sent = await inbox.sendMessage(Buffer.from(JSON.stringify(message)).toString("base64"));
      const text = await nextReport();
      // The host's queue binding writes a JSON value as Json.NET's indented text.
      expect(text).toBe(JSON.stringify(JSON.parse(text), null, 2));
      const report = JSON.parse(text);
      expect(report.message).toEqual(message);
      expect(report.triggerMetadata).toEqual({
        queueTrigger: message,
        dequeueCount: 1,
        id: sent.messageId,
        insertionTime: asHostWrites(sent.insertedOn),
        expirationTime: asHostWrites(sent.expiresOn),
        nextVisibleTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/),
        popReceipt: expect.any(String),
      });
    });

    it("counts deliveries: a message that failed twice is handed over with dequeueCount 3", async () => {
      const sent = await inbox.sendMessage(Buffer.from(JSON.stringify({ failUntil: 3 })).toString("base64"));
      const report = JSON.parse(await nextReport());
      expect(report.triggerMetadata).toMatchObject({ id: sent.messageId, dequeueCount: 3 });
      expect(runner.output()).toContain("failing on purpose (attempt 1)");
      expect(runner.output()).toContain("failing on purpose (attempt 2)");
    });
  });

  it("gives a timer function the TimerInfo the host sends, as the library reads it", async () => {
    const timerReports = new QueueClient(azurite.connectionString, "fixture-timer-reports");
    await timerReports.createIfNotExists();
    const text = await waitFor(async () => {
      const { receivedMessageItems } = await timerReports.receiveMessages({ numberOfMessages: 1 });
      return receivedMessageItems[0] && Buffer.from(receivedMessageItems[0].messageText, "base64").toString("utf8");
    }, "a timer report");
    // A schedule under a minute has no schedule monitor, so no status.
    expect(JSON.parse(text)).toEqual({ schedule: { adjustForDST: true }, scheduleStatus: null, isPastDue: false });
  });

  it("runs the app's appTerminate hook on a graceful shutdown", async () => {
    await runner.stop();
    expect(runner.child.exitCode).toBe(0);
    expect(readFileSync(traceFile, "utf8")).toBe("appStart\nappTerminate\n");
  });
});

/**
 * With HTTP streams on, the host forwards each request to the HTTP proxy the library starts in the worker, and
 * relays what the library writes there: the local host does the same (test/fixtures/streaming-app).
 */
describe("the local host, on an app with HTTP streams", () => {
  let runner: Runner;
  let baseUrl: string;
  const dir = mkdtempSync(join(tmpdir(), "teamops-streams-"));

  beforeAll(async () => {
    runner = await spawnRunner({
      AzureWebJobsScriptRoot: join(PROJECT_ROOT, "test/fixtures/streaming-app"),
      COSMOS_ENDPOINT: "http://127.0.0.1:1/",
      LOCAL_QUEUES: "off",
      TEAMOPS_DEV_DIR: dir,
    });
    baseUrl = runner.baseUrl;
  });
  afterAll(async () => {
    await runner?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("hands the handler the method, URL, headers, route values and the body through the forwarded request", async () => {
    const body = Buffer.from([0xff, 0x00, 0x7b, 0x22]);
    const res = await fetch(`${baseUrl}/echo/42/a%2Fb/c?x=1`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", "x-one": "1" },
      body,
    });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Record<string, any>;
    expect(seen.method).toBe("PUT");
    expect(seen.url).toBe(`${baseUrl}/echo/42/a%2Fb/c?x=1`);
    expect(seen.params).toEqual({ id: "42", rest: "a%2Fb/c" });
    expect(seen.headers).toMatchObject({ "content-type": "application/octet-stream", "x-one": "1" });
    expect(Buffer.from(seen.body, "base64")).toEqual(body);
  });

  it("hands the handler a chunked request body, as the host's forwarding does", async () => {
    const answer = await chunkedPost(`${baseUrl}/echo/1/x`);
    expect(answer.status).toBe(200);
    const echoed = JSON.parse(answer.body) as { body: string };
    expect(Buffer.from(echoed.body, "base64").toString()).toBe("first part, second part");
  });

  it("sends the response as the handler produces it: the first part arrives before the handler ends it", async () => {
    const res = await fetch(`${baseUrl}/stream`);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    // The end of the body waits for /release: a host that waited for the whole response would never get here.
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("first part\n");
    expect((await fetch(`${baseUrl}/release`, { method: "POST" })).status).toBe(204);
    let rest = "";
    for (let part = await reader.read(); !part.done; part = await reader.read()) {
      rest += new TextDecoder().decode(part.value);
    }
    expect(rest).toBe("last part\n");
  });
});
