/**
 * `npm run receiver`: a change-notification receiver on loopback, to try
 * subscriptions against `npm start`. It answers the validation handshake
 * (the token, URL-decoded, as text/plain, at once), acknowledges every
 * notification with 202 before doing anything with it, and prints it.
 * RECEIVER_PORT (default 7072) moves it; RECEIVER_CLIENT_STATE, when set,
 * is checked on every notification, as a real receiver must.
 */
import { createServer } from "node:http";

/** The receiver's settings: docs/configuration.md is made from them. */
export const RECEIVER_SETTINGS = [
  { name: "RECEIVER_PORT", description: "The receiver's port, on 127.0.0.1.", default: "7072" },
  {
    name: "RECEIVER_CLIENT_STATE",
    description: "When set, a notification with another clientState is printed as ignored, as a receiver drops it.",
    default: "",
  },
] as const;

function receive(): void {
  const port = Number(process.env.RECEIVER_PORT?.trim() || RECEIVER_SETTINGS[0].default);
  const expectedClientState = process.env.RECEIVER_CLIENT_STATE;

  const server = createServer((req, res) => {
    const token = new URL(req.url ?? "/", "http://localhost").searchParams.get("validationToken");
    if (token !== null) {
      // The handshake: within 10 seconds, 200 with the token as plain text.
      req.resume();
      res.writeHead(200, { "content-type": "text/plain" }).end(token);
      console.log(`validated ${req.url?.split("?")[0]}`);
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      // Acknowledge first: a receiver that answers late is retried, then dropped.
      res.writeHead(202).end();
      let value: Array<Record<string, unknown>> = [];
      try {
        value = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { value?: typeof value }).value ?? [];
      } catch {
        console.log("not a notification payload");
      }
      for (const notification of value) {
        if (expectedClientState !== undefined && notification.clientState !== expectedClientState) {
          console.log(`ignored (clientState does not match): ${JSON.stringify(notification)}`);
          continue;
        }
        console.log(JSON.stringify(notification));
      }
    });
  });

  server.listen(port, "127.0.0.1", () => {
    console.log(`receiver listening on http://127.0.0.1:${port}/notifications (Ctrl-C stops it)`);
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => server.close(() => process.exit(0)));
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) receive();
