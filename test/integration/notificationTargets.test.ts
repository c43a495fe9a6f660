/**
 * Where notifications may go, over real HTTP from this process: every
 * address class refused before any connection, names checked after
 * resolution through the injected resolver (at every delivery, so a re-pointed
 * name is caught), no redirects followed, bounded answers and timeouts. A
 * guard fails any connection outside 127.0.0.0/8 and ::1 for the whole file.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  refusedAddressReason,
  type AddressPolicy,
  type ResolvedAddress,
  type Resolver,
} from "../../shared/subscriptions/addressPolicy.js";
import { validationFailure } from "../../shared/subscriptions/handshake.js";
import { MAX_RESPONSE_BYTES, postToReceiver, WebhookFailure } from "../../shared/subscriptions/webhook.js";
import { installLoopbackGuard, type LoopbackGuard } from "../support/loopbackGuard.js";
import { startReceiver, type Receiver } from "../support/receiver.js";

let guard: LoopbackGuard;
let receiver: Receiver;
let special: Server;
let specialPort = 0;
let names: Record<string, ResolvedAddress[]> = {};
const resolved: string[] = [];

const resolver: Resolver = (hostname) => {
  resolved.push(hostname);
  const found = names[hostname];
  return found ? Promise.resolve(found) : Promise.reject(new Error("ENOTFOUND"));
};
const strict: AddressPolicy = { allowLoopback: false, resolve: resolver };
const local: AddressPolicy = { allowLoopback: true, resolve: resolver };
const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });

async function refusal(url: string, policy: AddressPolicy = strict): Promise<string> {
  try {
    await postToReceiver(url, { policy, timeoutMs: 2_000, contentType: "application/json", body: "{}" });
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookFailure);
    expect((error as WebhookFailure).kind).toBe("refused");
    return (error as Error).message;
  }
  throw new Error(`${url} was not refused`);
}

beforeAll(async () => {
  guard = installLoopbackGuard();
  receiver = await startReceiver();
  special = createServer((req, res) => {
    req.resume();
    if (req.url?.startsWith("/redirect")) {
      res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
    } else if (req.url?.startsWith("/large")) {
      res.writeHead(200, { "content-type": "text/plain" });
      const chunk = Buffer.alloc(64 * 1024, "a");
      const write = () => {
        while (res.write(chunk));
      };
      res.on("drain", write);
      write();
    } else if (req.url?.startsWith("/slow-headers")) {
      // never answers
    } else {
      res.writeHead(204).end();
    }
  });
  await new Promise<void>((resolve) => special.listen(0, "127.0.0.1", resolve));
  specialPort = (special.address() as AddressInfo).port;
});
afterEach(() => {
  names = {};
  expect(guard.attempts, "a connection outside loopback was attempted").toEqual([]);
});
afterAll(async () => {
  guard.restore();
  await receiver.close();
  special.closeAllConnections();
  await new Promise<void>((resolve) => special.close(() => resolve()));
});

describe("the loopback guard", () => {
  it("refuses a connection outside loopback before it is made, and records it", async () => {
    const socket = connect(80, "192.0.2.1");
    const [error] = (await once(socket, "error")) as [Error];
    expect(error.message).toContain("loopback guard");
    expect(guard.attempts).toEqual(["192.0.2.1"]);
    guard.attempts.length = 0;
  });
});

describe("address classes", () => {
  const refused: Record<string, string> = {
    "https://127.0.0.1/": "loopback",
    "https://127.8.9.10/": "loopback",
    "https://[::1]/": "loopback",
    "https://10.1.2.3/": "private",
    "https://172.16.0.1/": "private",
    "https://192.168.1.1/": "private",
    "https://169.254.169.254/latest/meta-data/": "link-local",
    "https://168.63.129.16/": "platform",
    "https://100.64.0.1/": "shared address space",
    "https://0.0.0.0/": "this network",
    "https://224.0.0.1/": "multicast",
    "https://[::ffff:127.0.0.1]/": "IPv4-mapped",
    "https://[::ffff:169.254.169.254]/": "IPv4-mapped",
    "https://[64:ff9b::a9fe:a9fe]/": "NAT64",
    "https://[2002:a9fe:a9fe::1]/": "6to4",
    "https://[fe80::1]/": "link-local",
    "https://[fd00:ec2::254]/": "unique local",
    "https://[::]/": "unspecified",
    // The URL parser reads these IPv4 forms as 127.0.0.1: still loopback.
    "https://2130706433/": "loopback",
    "https://0x7f.1/": "loopback",
  };
  for (const [url, reason] of Object.entries(refused)) {
    it(`refuses ${url} (${reason}) before connecting`, async () => {
      expect(await refusal(url)).toContain(reason);
      expect(resolved).toEqual([]);
    });
  }

  it("allows public unicast addresses, and loopback only when the local setting says so", () => {
    for (const address of ["20.190.128.1", "8.8.8.8", "2603:1000::1", "2001:4860:4860::8888"]) {
      expect(refusedAddressReason(address, { allowLoopback: false })).toBeUndefined();
    }
    expect(refusedAddressReason("127.0.0.1", { allowLoopback: true })).toBeUndefined();
    expect(refusedAddressReason("::1", { allowLoopback: true })).toBeUndefined();
    expect(refusedAddressReason("::ffff:127.0.0.1", { allowLoopback: true })).toContain("IPv4-mapped");
    expect(refusedAddressReason("10.0.0.1", { allowLoopback: true })).toContain("private");
  });

  it("refuses plain http, credentials and non-URLs", async () => {
    names["hooks.contoso.com"] = [v4("20.190.128.1")];
    expect(await refusal("http://hooks.contoso.com/")).toContain("https");
    expect(await refusal(`http://127.0.0.1:${specialPort}/`)).toContain("https");
    expect(await refusal("https://user:pass@hooks.contoso.com/")).toContain("credentials");
    expect(await refusal("ftp://hooks.contoso.com/")).toContain("https");
    expect(await refusal("hooks")).toContain("absolute URL");
  });
});

describe("names, checked after resolution", () => {
  it("refuses a name that resolves to a refused address, naming both", async () => {
    names["intranet.contoso.com"] = [v4("10.0.0.5")];
    const message = await refusal("https://intranet.contoso.com/hook");
    expect(message).toContain("intranet.contoso.com");
    expect(message).toContain("10.0.0.5");
    expect(resolved).toContain("intranet.contoso.com");
  });

  it("refuses a name with any refused address among public ones", async () => {
    names["mixed.contoso.com"] = [v4("20.190.128.1"), { address: "fd00::1", family: 6 }];
    expect(await refusal("https://mixed.contoso.com/")).toContain("fd00::1");
  });

  it("refuses a name that does not resolve", async () => {
    expect(await refusal("https://nowhere.contoso.com/")).toContain("does not resolve");
  });

  it("checks at every delivery: a name re-pointed inside after a successful one is refused", async () => {
    names["receiver.test"] = [v4("127.0.0.1")];
    const url = `http://receiver.test:${new URL(receiver.url).port}/notify`;
    const ok = await postToReceiver(url, {
      policy: local,
      timeoutMs: 2_000,
      contentType: "application/json",
      body: '{"value":[{"n":1}]}',
    });
    expect(ok.status).toBe(202);
    names["receiver.test"] = [v4("169.254.169.254")];
    expect(await refusal(url, local)).toContain("169.254.169.254");
    expect(receiver.acknowledged).toEqual([{ n: 1 }]);
  });

  it("connects to the address it checked, not to a second answer", async () => {
    let calls = 0;
    const flipping: Resolver = () => {
      calls++;
      return Promise.resolve([v4(calls === 1 ? "127.0.0.1" : "10.0.0.1")]);
    };
    const answer = await postToReceiver(`http://flip.test:${specialPort}/`, {
      policy: { allowLoopback: true, resolve: flipping },
      timeoutMs: 2_000,
      contentType: "application/json",
      body: "{}",
    });
    expect(answer.status).toBe(204);
    expect(calls).toBe(1);
  });
});

describe("what a receiver can do", () => {
  it("a redirect is not followed", async () => {
    const answer = await postToReceiver(`http://127.0.0.1:${specialPort}/redirect`, {
      policy: local,
      timeoutMs: 2_000,
      contentType: "application/json",
      body: "{}",
    });
    expect(answer.status).toBe(302);
  });

  it("a large answer is read only up to the bound", async () => {
    const answer = await postToReceiver(`http://127.0.0.1:${specialPort}/large`, {
      policy: local,
      timeoutMs: 5_000,
      contentType: "application/json",
      body: "{}",
    });
    expect(answer.status).toBe(200);
    expect(answer.body.length).toBe(MAX_RESPONSE_BYTES);
  });

  it("a receiver that never answers times out", async () => {
    await expect(
      postToReceiver(`http://127.0.0.1:${specialPort}/slow-headers`, {
        policy: local,
        timeoutMs: 300,
        contentType: "application/json",
        body: "{}",
      }),
    ).rejects.toMatchObject({ kind: "timeout" });
  });

  it("the handshake says why it failed: wrong token, wrong type, no answer, a refused address", async () => {
    const options = { policy: local, timeoutMs: 500 };
    expect(await validationFailure(receiver.url, options)).toBeUndefined();
    expect(receiver.validations.at(-1)).toMatch(/^Validation: /);
    receiver.validation = "wrong";
    expect(await validationFailure(receiver.url, options)).toContain("not the validation token");
    receiver.validation = "html";
    expect(await validationFailure(receiver.url, options)).toContain("text/plain");
    receiver.validation = "hang";
    expect(await validationFailure(receiver.url, options)).toContain("no answer within 0.5 s");
    receiver.validation = "echo";
    expect(await validationFailure("https://169.254.169.254/", options)).toContain("link-local");
    expect(await validationFailure(`http://127.0.0.1:${specialPort}/redirect`, options)).toContain("302");
  });
});
