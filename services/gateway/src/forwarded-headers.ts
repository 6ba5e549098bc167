import type { IncomingHttpHeaders } from "node:http";
import { REFRESH_COOKIE } from "@blossom/users-contracts";

// End-to-end request headers a service may need. Everything else (hop-by-hop headers, cookies
// for other origins, the client's host) stays at the edge.
const REQUEST_HEADERS = [
  "authorization",
  "idempotency-key",
  "accept-language",
  "if-none-match",
  "if-match",
  "user-agent",
  // RFC 7240: `wait=N` lets a service hold an answer (GET /api/orders/:id while pending);
  // `refresh-token=cookie` asks users for the browser's cookie mode.
  "prefer",
];

// Of the client's cookies, only the refresh token of users' cookie mode goes on (browsers send
// it to `/api/auth` only: its Path); any other cookie of the origin stays at the edge.
const REFRESH_COOKIE_PAIR = new RegExp(`(?:^|;)\\s*(${REFRESH_COOKIE}=[A-Za-z0-9_-]+)\\s*(?:;|$)`);

// Response headers the client may need; the gateway sets its own ids and connection handling.
export const RESPONSE_HEADERS = [
  "content-type",
  "location",
  "retry-after",
  "cache-control",
  "etag",
  "www-authenticate",
  "ratelimit-limit",
  "ratelimit-remaining",
  "ratelimit-reset",
  "preference-applied",
  // A POST with an Idempotency-Key answered by replaying the first one (orders, payments).
  "idempotent-replayed",
  // The refresh-token cookie of users' cookie mode (login, refresh, logout).
  "set-cookie",
];

export function forwardedRequestHeaders(
  headers: IncomingHttpHeaders,
  clientIp: string,
): Record<string, string> {
  const forwarded: Record<string, string> = {};
  for (const name of REQUEST_HEADERS) {
    const value = headers[name];
    if (typeof value === "string") forwarded[name] = value;
  }
  const cookie = headers.cookie;
  if (cookie !== undefined) {
    const refresh = REFRESH_COOKIE_PAIR.exec(cookie)?.[1];
    if (refresh) forwarded.cookie = refresh;
  }
  const prior = headers["x-forwarded-for"];
  forwarded["x-forwarded-for"] = typeof prior === "string" && prior ? `${prior}, ${clientIp}` : clientIp;
  return forwarded;
}

export function pickResponseHeaders(
  headers: Readonly<Record<string, string | string[]>>,
): Record<string, string | string[]> {
  const picked: Record<string, string | string[]> = {};
  for (const name of RESPONSE_HEADERS) {
    const value = headers[name];
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}
