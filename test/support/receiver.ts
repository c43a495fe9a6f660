/**
 * A notification receiver on a free loopback port, as a subscriber would run
 * one: it answers Graph's validation handshake and records what it is sent.
 * Its behaviour can be switched: a wrong token, no answer, failures.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type ValidationMode = "echo" | "wrong" | "hang" | "html";
export type NotifyMode = "accept" | "fail" | "hang";

export interface Receiver {
  readonly url: string;
  /** Every notification payload's `value` items, in arrival order, acknowledged or not. */
  readonly received: any[];
  /** Only those answered with 202. */
  readonly acknowledged: any[];
  /** Every notification payload whole (`value`, and `validationTokens` when it has them), in arrival order. */
  readonly payloads: any[];
  /** The validation tokens it was sent. */
  readonly validations: string[];
  /** Requests it is holding open (hang mode). */
  open(): number;
  validation: ValidationMode;
  notify: NotifyMode;
  /** Fail this many notification POSTs (500) before following `notify`. */
  failNext: number;
  close(): Promise<void>;
}

export async function startReceiver(path = "/notify"): Promise<Receiver> {
  const hanging = new Set<ServerResponse>();
  const receiver = {
    url: "",
    received: [] as any[],
    acknowledged: [] as any[],
    payloads: [] as any[],
    validations: [] as string[],
    open: () => hanging.size,
    validation: "echo" as ValidationMode,
    notify: "accept" as NotifyMode,
    failNext: 0,
    close: (): Promise<void> => Promise.resolve(),
  };
  const hang = (res: ServerResponse) => {
    hanging.add(res);
    res.on("close", () => hanging.delete(res));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const token = url.searchParams.get("validationToken");
      if (token !== null) {
        receiver.validations.push(token);
        if (receiver.validation === "hang") return hang(res);
        if (receiver.validation === "html") return res.writeHead(200, { "content-type": "text/html" }).end(token);
        const answer = receiver.validation === "wrong" ? `${token}x` : token;
        return res.writeHead(200, { "content-type": "text/plain" }).end(answer);
      }
      const payload = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { value: any[] };
      const items = payload.value;
      receiver.payloads.push(payload);
      receiver.received.push(...items);
      if (receiver.failNext > 0) {
        receiver.failNext--;
        return res.writeHead(500).end();
      }
      if (receiver.notify === "hang") return hang(res);
      if (receiver.notify === "fail") return res.writeHead(503).end();
      receiver.acknowledged.push(...items);
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
