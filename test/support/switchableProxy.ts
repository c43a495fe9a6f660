/**
 * A test-only HTTP proxy on loopback that forwards everything to its target, except what it is told to refuse:
 * everything while it is down (a store or a storage account the app cannot tell from the real outage), or only the
 * requests whose path matches. Refused requests get a 503 with a JSON body, as an unavailable service answers.
 */
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface SwitchableProxy {
  /** http://127.0.0.1:<port>/ */
  readonly endpoint: string;
  readonly port: number;
  /** Refuse every request (true), or none (false). */
  setDown(down: boolean): void;
  /** Refuse the requests whose path (with its query) matches; undefined refuses none. */
  refuse(paths: RegExp | undefined): void;
  close(): Promise<void>;
}

/** Starts a proxy to `target()` (read per request, so the target can be known after the proxy starts). */
export async function startSwitchableProxy(target: () => string): Promise<SwitchableProxy> {
  let down = false;
  let refused: RegExp | undefined;
  const server: Server = createServer((req, res) => {
    if (down || (refused && refused.test(req.url ?? ""))) {
      req.resume();
      res.writeHead(503, { "content-type": "application/json" }).end('{"code":"ServiceUnavailable","message":"down"}');
      return;
    }
    const upstream = httpRequest(
      new URL(req.url ?? "/", target()),
      { method: req.method, headers: req.headers },
      (a) => {
        res.writeHead(a.statusCode ?? 502, a.headers);
        a.pipe(res);
      },
    );
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}/`,
    port,
    setDown: (value) => (down = value),
    refuse: (paths) => (refused = paths),
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
