// The notification receiver of bench/scale.js, in a process of its own so that receiving does not share an event
// loop with sending: it answers Graph's validation handshake, acknowledges every notification POST with 202 (those
// to /slow/... after RECEIVER_SLOW_MS), and records when each arrived (CLOCK_MONOTONIC, as process.hrtime reads
// it in every process, in ms). GET
// /arrivals gives them and forgets them.
//   PORT (default 0), RECEIVER_SLOW_MS (default 1000)
import { createServer } from "node:http";

const SLOW_MS = Number(process.env.RECEIVER_SLOW_MS ?? 1000);
const now = () => Number(process.hrtime.bigint()) / 1e6;
let arrivals = [];

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  if (req.method === "GET" && url.pathname === "/arrivals") {
    const body = JSON.stringify(arrivals);
    arrivals = [];
    return res.writeHead(200, { "content-type": "application/json" }).end(body);
  }
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const token = url.searchParams.get("validationToken");
    if (token !== null) return res.writeHead(200, { "content-type": "text/plain" }).end(token);
    const at = now();
    const { value } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    arrivals.push({ path: url.pathname, at, notifications: value.length });
    const answer = () => res.writeHead(202).end();
    if (url.pathname.startsWith("/slow/")) setTimeout(answer, SLOW_MS);
    else answer();
  });
});
server.keepAliveTimeout = 5_000;
// Every subscriber's POST comes on a connection of its own, all at once: a backlog for all of them.
server.listen({ port: Number(process.env.PORT ?? 0), host: "127.0.0.1", backlog: 4096 }, () => {
  console.log(`receiver listening on http://127.0.0.1:${server.address().port}`);
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
