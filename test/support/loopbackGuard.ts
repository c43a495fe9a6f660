/**
 * Fails any attempt, in this process, to connect outside 127.0.0.0/8 and ::1:
 * the connection is destroyed before it is made (for a name, as soon as it is
 * resolved) and recorded, so a test can assert that none was attempted.
 */
import net from "node:net";

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

function loopback(address: string): boolean {
  const family = net.isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 6 ? "ipv6" : "ipv4");
}

export interface LoopbackGuard {
  /** Every address a connection outside loopback was attempted to. */
  readonly attempts: string[];
  restore(): void;
}

export function installLoopbackGuard(): LoopbackGuard {
  const attempts: string[] = [];
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its socket as `this`
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guarded(this: net.Socket, ...args: any[]) {
    // net.connect passes its normalized arguments as one array: [options, callback].
    const first: unknown = Array.isArray(args[0]) ? args[0][0] : args[0];
    const options = (typeof first === "object" && first !== null ? first : { port: first, host: args[1] }) as {
      host?: string;
      path?: string;
    };
    if (options.path === undefined) {
      const host = (options.host ?? "localhost").replace(/^\[|\]$/g, "");
      if (net.isIP(host) !== 0 && !loopback(host)) {
        attempts.push(host);
        const error = new Error(`loopback guard: refused a connection to ${host}`);
        process.nextTick(() => this.destroy(error));
        return this;
      }
      this.once("lookup", (_err: Error | null, address: string) => {
        if (address && !loopback(address)) {
          attempts.push(address);
          this.destroy(new Error(`loopback guard: refused a connection to ${address}`));
        }
      });
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof original;
  return { attempts, restore: () => (net.Socket.prototype.connect = original) };
}
