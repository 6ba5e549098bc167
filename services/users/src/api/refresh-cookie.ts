import { REFRESH_COOKIE, REFRESH_COOKIE_PATH } from "@blossom/users-contracts";
import type { FastifyReply, FastifyRequest } from "fastify";

/**
 * The refresh token's cookie mode, for browsers: the token travels in an `HttpOnly; Secure;
 * SameSite=Strict` cookie scoped to `/api/auth`, so page scripts never see it (an XSS cannot
 * steal it) and no other route, nor any other site, ever sends it. API clients keep the JSON
 * mode (the token in the body), which stays the default.
 *
 * - Login asks for it with `Prefer: refresh-token=cookie` (RFC 7240): the answer sets the cookie,
 *   leaves `refreshToken` out of the body and says `Preference-Applied: refresh-token=cookie`.
 * - Refresh and logout take the token from the body when it has one, else from the cookie; a
 *   refresh from the cookie answers in cookie mode (the rotated token in a new cookie), and a
 *   logout or a refused refresh from the cookie clears it.
 *
 * CSRF: SameSite=Strict keeps other sites' requests from carrying the cookie, and these routes
 * take `application/json` only, which no cross-site form can send without a CORS preflight.
 */

export const COOKIE_PREFERENCE = "refresh-token=cookie";

const PREFERENCE = /(?:^|[\s,;])refresh-token\s*=\s*"?cookie"?(?=$|[\s,;])/i;

/** Whether the request prefers the cookie mode (`Prefer: refresh-token=cookie`). */
export function prefersCookie(request: FastifyRequest): boolean {
  const prefer = request.headers.prefer;
  return typeof prefer === "string" && PREFERENCE.test(prefer);
}

/** The refresh token in the request's `Cookie` header, if any (the first of that name). */
export function refreshTokenFromCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== "string") return undefined;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq < 0 || pair.slice(0, eq).trim() !== REFRESH_COOKIE) continue;
    const value = pair.slice(eq + 1).trim();
    // Refresh tokens are base64url: anything else is not one of ours.
    return /^[A-Za-z0-9_-]{1,512}$/.test(value) ? value : undefined;
  }
  return undefined;
}

/** Sets the cookie to `token` for `maxAgeSeconds` (the refresh token's own lifetime). */
export function setRefreshCookie(reply: FastifyReply, token: string, maxAgeSeconds: number): void {
  reply.header(
    "set-cookie",
    `${REFRESH_COOKIE}=${token}; Path=${REFRESH_COOKIE_PATH}; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`,
  );
  reply.header("preference-applied", COOKIE_PREFERENCE);
}

/** The `Set-Cookie` value that removes the cookie (logout, or a refused refresh). */
export const CLEARED_REFRESH_COOKIE = `${REFRESH_COOKIE}=; Path=${REFRESH_COOKIE_PATH}; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;
