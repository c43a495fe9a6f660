/** What the subscription tests share: a subscriber's calls, expiration times, and loopback receivers to close. */
import { expect } from "vitest";
import { call } from "./http.js";
import { startReceiver, type Receiver } from "./receiver.js";

/** The notifications a receiver was sent about one operation, acknowledged or not. */
export const sentAbout = (r: Receiver, operationId: string) =>
  r.received.filter((n) => n.resourceData.id === operationId);

/** An ISO time this many minutes from now (negative: in the past). */
export const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

/** The subscription routes of the API at `baseUrl()`, called with `token()` unless another bearer is given. */
export function subscriptionCalls(baseUrl: () => string, token: () => string) {
  const subscribe = (body: Record<string, unknown>, bearer = token()) =>
    call(`${baseUrl()}/subscriptions`, { method: "POST", token: bearer, body });
  return {
    subscribe,
    /** A subscription that must be created: its representation. */
    subscribed: async (body: Record<string, unknown>, bearer = token()) => {
      const response = await subscribe(body, bearer);
      expect(response.status, response.text).toBe(201);
      return response.json as Record<string, any>;
    },
    renew: (id: string, expirationDateTime: string, bearer = token()) =>
      call(`${baseUrl()}/subscriptions/${id}`, { method: "PATCH", token: bearer, body: { expirationDateTime } }),
    /** A change to notify of: an operation created in the team (a 201), its id. */
    createOperation: async (team: string, bearer = token()): Promise<string> => {
      const response = await call(`${baseUrl()}/teams/${team}/operations`, {
        method: "POST",
        token: bearer,
        body: { operationType: "cloneTeam" },
      });
      expect(response.status, response.text).toBe(201);
      return response.json.id as string;
    },
  };
}

/** Loopback receivers a test file starts, closed together at its end. */
export function receiverPool() {
  const started: Receiver[] = [];
  return {
    async start(): Promise<Receiver> {
      const receiver = await startReceiver();
      started.push(receiver);
      return receiver;
    },
    close: () => Promise.all(started.map((receiver) => receiver.close())),
  };
}
