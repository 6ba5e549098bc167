import type { FastifyRequest } from "fastify";

/**
 * A route-level `onRequest` hook for routes that take no bearer token: the key set, and the
 * routes where the body is the credential (login, refresh, logout). It drops the Authorization
 * header before the host's authentication runs, so that:
 *
 * - a key-set fetch that carries a caller's token (services forward the caller's Authorization
 *   on their calls) is never verified — verifying it would wait for this very key set;
 * - a client refreshing after its access token expired is not refused for sending the stale one.
 */
export async function ignoreBearerToken(request: FastifyRequest): Promise<void> {
  delete request.headers.authorization;
}
