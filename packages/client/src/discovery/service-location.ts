import { parseDnsServiceUrl } from "./dns-discovery.js";
import { parseInstanceList } from "./static-discovery.js";

/**
 * Marks a service location resolved through DNS: `dns+http://inventory.blossom.svc:8082` means
 * one instance per address the host name resolves to (a Kubernetes headless service).
 *
 * A scheme prefix rather than a separate "discovery mode" setting: one value says where a
 * service lives and how to find it, so no two settings can contradict each other (a "dns" mode
 * over a list of three URLs), and the convention is a known one (`git+ssh://`, `mongodb+srv://`).
 */
export const DNS_PREFIX = "dns+";

/** Where the instances of one service come from. */
export type ServiceLocation = { kind: "static"; instances: string[] } | { kind: "dns"; url: string };

/**
 * Reads a service location as written in configuration (Blossom's `<SERVICE>_URL`):
 * comma-separated http(s) base URLs (static discovery), or one
 * `dns+http(s)://host[:port][/prefix]` (DNS discovery, `url` without the prefix).
 * @throws TypeError naming the offending entry, so a typo fails at start-up.
 */
export function parseServiceLocation(value: string): ServiceLocation {
  const entries = value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  const dns = entries.find((entry) => entry.toLowerCase().startsWith(DNS_PREFIX));
  if (dns === undefined) return { kind: "static", instances: parseInstanceList(value) };
  if (entries.length > 1) {
    throw new TypeError(`"${dns}" must be the only entry: a DNS name already lists every instance`);
  }
  return { kind: "dns", url: parseDnsServiceUrl(dns.slice(DNS_PREFIX.length)) };
}
