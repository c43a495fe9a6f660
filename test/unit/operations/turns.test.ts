import { describe, expect, it } from "vitest";
import { graphErrorOf } from "../../../shared/http/errorMapping.js";
import { GraphError } from "../../../shared/http/graphError.js";
import { inTurn, MAX_WAITING_WRITERS } from "../../../shared/operations/turns.js";

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("writers of one operation take turns", () => {
  it("runs the writers of one key one at a time, in arrival order, and other keys alongside", async () => {
    const events: string[] = [];
    let running = 0;
    let most = 0;
    const writer = (name: string) => async () => {
      running++;
      most = Math.max(most, running);
      events.push(`start ${name}`);
      await tick();
      events.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all([
      inTurn("a", writer("a1")),
      inTurn("a", writer("a2")),
      inTurn("a", writer("a3")),
    ]);
    expect(results).toEqual(["a1", "a2", "a3"]);
    expect(events).toEqual(["start a1", "end a1", "start a2", "end a2", "start a3", "end a3"]);
    expect(most).toBe(1);

    running = 0;
    most = 0;
    await Promise.all([inTurn("x", writer("x")), inTurn("y", writer("y"))]);
    expect(most).toBe(2);
  });

  it("lets the next writer go when one fails", async () => {
    const failing = inTurn("b", () => Promise.reject(new Error("store down")));
    const next = inTurn("b", () => Promise.resolve("next"));
    await expect(failing).rejects.toThrow("store down");
    await expect(next).resolves.toBe("next");
  });

  it("refuses a writer past the line's length with a 429", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const line = Array.from({ length: MAX_WAITING_WRITERS }, () => inTurn("c", () => gate));
    // What the API answers for the refusal.
    const refused = await inTurn("c", () => Promise.resolve()).catch((error: unknown) => graphErrorOf(error));
    expect(refused).toBeInstanceOf(GraphError);
    expect((refused as GraphError).status).toBe(429);
    expect((refused as GraphError).headers["Retry-After"]).toBe("1");
    open();
    await Promise.all(line);
    await expect(inTurn("c", () => Promise.resolve("again"))).resolves.toBe("again");
  });
});
