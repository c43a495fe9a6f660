// A proxy between a runner and the embedded store that counts the requests reaching documents (reads, writes,
// queries and the SDK's query plan requests; not the account and container metadata a client reads once) and the
// time the store took to answer them, from a request forwarded to the end of its answer (requests waiting at once
// counted once).
import { Agent, createServer, request } from "node:http";

/** A proxy that forwards everything to `target` and counts the requests to documents (`.../docs...`). */
export async function countingProxy(target) {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  let documents = 0;
  // The time at least one document request was waiting for the store (requests made at once count once).
  let storeMs = 0;
  let waiting = 0;
  let waitingSince = 0;
  const server = createServer((req, res) => {
    const counted = /\/colls\/[^/]+\/docs/.test(req.url ?? "");
    if (counted) {
      documents++;
      if (waiting++ === 0) waitingSince = performance.now();
    }
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.once("end", () => {
          if (counted && --waiting === 0) storeMs += performance.now() - waitingSince;
        });
      },
    );
    out.on("error", () => {
      if (counted && --waiting === 0) storeMs += performance.now() - waitingSince;
      res.destroy();
    });
    req.pipe(out);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}/`,
    /** The document requests `run` made, and the time the store spent answering them (ms). */
    async measure(run) {
      const before = { documents, storeMs };
      const started = performance.now();
      const value = await run();
      return {
        value,
        ms: performance.now() - started,
        calls: documents - before.documents,
        storeMs: storeMs - before.storeMs,
      };
    },
    /** The document requests `run` made. */
    async count(run) {
      return (await this.measure(run)).calls;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
