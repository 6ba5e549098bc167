import proxyAddr from "@fastify/proxy-addr";
import type { FastifyRequest } from "fastify";

/**
 * The client's address, for the limits and the audit log. Without trusted proxies it is the
 * connection's peer (`request.ip`). With them (`USERS_TRUSTED_PROXIES`: the gateway's addresses,
 * and the proxies in front of it), X-Forwarded-For is walked from the right while the hop is
 * trusted, as Fastify's `trustProxy` does: the first untrusted hop is the client. A caller that
 * is not a trusted proxy cannot choose its address by sending the header.
 *
 * Behind the gateway without this setting, every client reaching users through one gateway
 * replica has that replica's address: the per-address budgets become that replica's.
 */
export function clientAddressOf(trustedProxies: readonly string[]): (request: FastifyRequest) => string {
  if (trustedProxies.length === 0) return (request) => request.ip;
  const trust = proxyAddr.compile([...trustedProxies]);
  return (request) => proxyAddr(request.raw, trust);
}
