import { isIPv4, isIPv6 } from "node:net";

/**
 * The client an address stands for, as a counter key: an IPv4 address as it is (an IPv4-mapped
 * IPv6 one too), an IPv6 address by its /64 — one host or home network gets a whole /64, so
 * counting single IPv6 addresses would give it 2^64 budgets (the gateway's limiter does the same).
 */
export function addressBucket(address: string): string {
  const bare = address.split("%")[0]?.trim().toLowerCase() ?? "";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped?.[1] && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(bare)) return bare;
  if (isIPv6(bare)) return `${expandIPv6(bare).slice(0, 4).join(":")}::/64`;
  // Not an address (a test's or a socket's placeholder): a key all the same, of bounded length.
  return `other:${bare.slice(0, 64)}`;
}

/** The eight groups of an IPv6 address, without leading zeros. */
function expandIPv6(address: string): string[] {
  let text = address;
  // A trailing dotted quad (e.g. 64:ff9b::1.2.3.4) is two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((group) => Number.parseInt(group, 16).toString(16));
}
