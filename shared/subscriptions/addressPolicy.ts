/**
 * Where notifications may go. A notification URL is the caller's, and the
 * service POSTs to it from inside Azure, so it must never reach what only the
 * service can reach: loopback, private networks, link-local (the instance
 * metadata service), Azure's platform address, or any IPv6 form that embeds
 * an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo). Names are
 * checked after DNS resolution, at every delivery, so a name re-pointed
 * after the subscription was created still cannot reach inside; the request
 * then connects to exactly the address that was checked.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to every address it has (the injected resolver tests feed). */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({
    address,
    family: family === 6 ? 6 : 4,
  }));

export interface AddressPolicy {
  /** Plain http to loopback receivers, for local runs and tests; refused in Azure. */
  readonly allowLoopback: boolean;
  readonly resolve: Resolver;
}

/** Why a URL may not be used, naming what was refused. */
export class RefusedTarget extends Error {
  override readonly name = "RefusedTarget";
}

const RANGES: ReadonlyArray<readonly [string, number, "ipv4" | "ipv6", string]> = [
  ["0.0.0.0", 8, "ipv4", "'this network' (0.0.0.0/8)"],
  ["10.0.0.0", 8, "ipv4", "private (10.0.0.0/8)"],
  ["100.64.0.0", 10, "ipv4", "shared address space (100.64.0.0/10)"],
  ["127.0.0.0", 8, "ipv4", "loopback (127.0.0.0/8)"],
  ["169.254.0.0", 16, "ipv4", "link-local, where instance metadata lives (169.254.0.0/16)"],
  ["168.63.129.16", 32, "ipv4", "Azure's platform address (168.63.129.16)"],
  ["172.16.0.0", 12, "ipv4", "private (172.16.0.0/12)"],
  ["192.0.0.0", 24, "ipv4", "IETF protocol assignments (192.0.0.0/24)"],
  ["192.0.2.0", 24, "ipv4", "documentation (192.0.2.0/24)"],
  ["192.88.99.0", 24, "ipv4", "6to4 relay (192.88.99.0/24)"],
  ["192.168.0.0", 16, "ipv4", "private (192.168.0.0/16)"],
  ["198.18.0.0", 15, "ipv4", "benchmarking (198.18.0.0/15)"],
  ["198.51.100.0", 24, "ipv4", "documentation (198.51.100.0/24)"],
  ["203.0.113.0", 24, "ipv4", "documentation (203.0.113.0/24)"],
  ["224.0.0.0", 4, "ipv4", "multicast (224.0.0.0/4)"],
  ["240.0.0.0", 4, "ipv4", "reserved (240.0.0.0/4)"],
  ["::", 128, "ipv6", "unspecified (::)"],
  ["::1", 128, "ipv6", "loopback (::1)"],
  ["::ffff:0:0", 96, "ipv6", "IPv4-mapped IPv6 (::ffff:0:0/96)"],
  ["::", 96, "ipv6", "IPv4-compatible IPv6 (::/96)"],
  ["64:ff9b::", 96, "ipv6", "NAT64 (64:ff9b::/96)"],
  ["64:ff9b:1::", 48, "ipv6", "local NAT64 (64:ff9b:1::/48)"],
  ["100::", 64, "ipv6", "discard-only (100::/64)"],
  ["2001::", 32, "ipv6", "Teredo (2001::/32)"],
  ["2001:db8::", 32, "ipv6", "documentation (2001:db8::/32)"],
  ["2002::", 16, "ipv6", "6to4 (2002::/16)"],
  ["fc00::", 7, "ipv6", "unique local, where cloud metadata may live (fc00::/7)"],
  ["fe80::", 10, "ipv6", "link-local (fe80::/10)"],
  ["fec0::", 10, "ipv6", "site-local (fec0::/10)"],
  ["ff00::", 8, "ipv6", "multicast (ff00::/8)"],
];

const BLOCKS = RANGES.map(([network, prefix, type, reason]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return { list, type, reason };
});

// Separate lists: a BlockList would match an IPv4-mapped address such as ::ffff:127.0.0.1 against an IPv4 range.
const LOOPBACK_V4 = new BlockList();
LOOPBACK_V4.addSubnet("127.0.0.0", 8, "ipv4");
const LOOPBACK_V6 = new BlockList();
LOOPBACK_V6.addAddress("::1", "ipv6");

/** 127.0.0.0/8 or ::1, and nothing that merely embeds them. */
export function isLoopback(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return LOOPBACK_V4.check(address, "ipv4");
  return family === 6 && LOOPBACK_V6.check(address, "ipv6");
}

/** Why an address is refused (a phrase naming its class), or undefined when it is a public unicast address. */
export function refusedAddressReason(
  address: string,
  policy: Pick<AddressPolicy, "allowLoopback">,
): string | undefined {
  const family = isIP(address);
  if (family === 0) return "not an IP address";
  if (policy.allowLoopback && isLoopback(address)) return undefined;
  const type = family === 6 ? "ipv6" : "ipv4";
  // BlockList matches an IPv4-mapped IPv6 address against IPv4 ranges too; each range is checked in its own type.
  for (const block of BLOCKS) if (block.type === type && block.list.check(address, type)) return block.reason;
  return undefined;
}

/** A notification URL, parsed and checked for its form: https (or http when loopback receivers are allowed), no credentials. */
export function checkUrlForm(text: string, policy: Pick<AddressPolicy, "allowLoopback">): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RefusedTarget("it is not an absolute URL");
  }
  if (url.username || url.password) throw new RefusedTarget("it carries credentials");
  if (url.hash) throw new RefusedTarget("it has a fragment");
  // Plain http only where loopback receivers are allowed, and then only to loopback (checked once resolved).
  if (url.protocol !== "https:" && !(url.protocol === "http:" && policy.allowLoopback)) {
    throw new RefusedTarget("it must use https");
  }
  return url;
}

/**
 * The address to connect to for a URL: every address its host resolves to must be allowed (a name with one
 * refused address is refused, whichever one a connection would pick).
 */
export async function resolveTarget(url: URL, policy: AddressPolicy): Promise<ResolvedAddress> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const literal = isIP(host);
  let addresses: readonly ResolvedAddress[];
  if (literal !== 0) {
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await policy.resolve(host);
    } catch {
      throw new RefusedTarget(`its host '${host}' does not resolve`);
    }
    if (addresses.length === 0) throw new RefusedTarget(`its host '${host}' does not resolve`);
  }
  for (const { address } of addresses) {
    const reason = refusedAddressReason(address, policy);
    if (reason) {
      throw new RefusedTarget(
        literal !== 0
          ? `its address ${address} is ${reason}`
          : `its host '${host}' resolves to ${address}, which is ${reason}`,
      );
    }
  }
  if (url.protocol === "http:" && !addresses.every(({ address }) => isLoopback(address))) {
    throw new RefusedTarget("it must use https (plain http is allowed only to a loopback receiver)");
  }
  return addresses[0]!;
}
