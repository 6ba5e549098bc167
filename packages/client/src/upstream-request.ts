import type { Readable } from "node:stream";
import { isRetrySafe } from "./retry-policy.js";

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";

/** A query string value; arrays repeat the key, `undefined` omits it. */
export type QueryValue = string | number | boolean | readonly (string | number | boolean)[] | undefined;

/** Header values; `undefined` omits the header (handy for an optional `authorization`). */
export type HeaderValues = Readonly<Record<string, string | undefined>>;

/** One call to an upstream service, as given to `ServiceClient.request`. */
export interface UpstreamRequest {
  method: HttpMethod;
  /** Path on the upstream, starting with `/`, e.g. `/items/42`. May already carry a query. */
  path: string;
  query?: Readonly<Record<string, QueryValue>>;
  /** Extra headers; they override the propagated ones from the client's `headers` hook. */
  headers?: HeaderValues;
  /** Serialised as JSON (and sent with `content-type: application/json`) when not `undefined`. */
  body?: unknown;
  /** Sent as `Idempotency-Key`; makes a POST/PATCH retryable, since the upstream dedupes by it. */
  idempotencyKey?: string;
  /** Aborts the call (and any pending retry) with an `UpstreamAbortedError`. */
  signal?: AbortSignal;
  /** Overrides the client's per-attempt timeout for this call. */
  timeoutMs?: number;
  /**
   * Who the call is made for (a user id, a client address): failures of one caller alone never
   * open a breaker. Unset: each call counts as its own caller.
   */
  caller?: string;
  /**
   * The upstream may hold the answer for a long time (`Prefer: wait`, server-sent events): the
   * call goes through the instance's own pool for held requests, so that waiting requests never
   * take the keep-alive connections ordinary calls queue for.
   */
  held?: boolean;
  /**
   * A 503 with `Retry-After` (the upstream shed the request before doing anything) is handed
   * back at once instead of being retried after the delay it asks for: for a caller that only
   * forwards (the gateway), whose own client decides when to come back. Retried, it would hold
   * the client for the whole delay and add to the load that was shed.
   */
  passOnShed?: boolean;
}

/** Options of the typed helpers (`getJson`, `postJson`, …). */
export type RequestOptions = Omit<UpstreamRequest, "method" | "path" | "body">;

/**
 * A 2xx answer whose body is still arriving (`ServiceClient.stream`): the caller reads or pipes
 * `body` and must consume or destroy it. Server-sent events and downloads pass through this way.
 */
export interface UpstreamStreamResponse {
  status: number;
  /** Lower-case header names, as undici reports them. */
  headers: Record<string, string | string[]>;
  body: Readable;
  /** The instance base URL that answered. */
  instance: string;
}

/** A 2xx answer. */
export interface UpstreamResponse<T = unknown> {
  status: number;
  /** Lower-case header names, as undici reports them. */
  headers: Record<string, string | string[]>;
  /** Parsed JSON when the content type is JSON, the text otherwise, `undefined` when empty. */
  body: T;
  /** The instance base URL that answered. */
  instance: string;
}

/**
 * The time budget a callee is given (gRPC's `grpc-timeout`, in milliseconds; the runtime's
 * request-deadline.ts reads it): how long the caller will wait, from when it sends.
 */
export const REQUEST_TIMEOUT_HEADER = "x-request-timeout";

/**
 * The budget to send with an attempt the client waits `timeoutMs` for: a fifth shorter (at
 * least 100 ms), so the callee refuses work it could not start in time (503, nothing done)
 * rather than start it and have the caller give up on it (504, outcome unknown); the rest is
 * for the work itself and the trip back. Never more than what the caller's own caller left
 * (`inherited`, the propagated header).
 */
export function calleeBudgetMs(timeoutMs: number, inherited?: string): number {
  const own = Math.max(0, Math.round(timeoutMs - Math.max(100, timeoutMs / 5)));
  const left = inherited !== undefined && /^\d{1,9}$/.test(inherited) ? Number(inherited) : undefined;
  return left === undefined ? own : Math.min(own, left);
}

/** A request ready for the wire, shared by all its attempts. */
export interface PreparedRequest {
  method: HttpMethod;
  /** Path and query, without any instance path prefix. */
  target: string;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
  /** Whether repeating it is harmless (idempotent method or idempotency key). */
  retrySafe: boolean;
  /** See `UpstreamRequest.caller`. */
  caller: string | undefined;
  /** See `UpstreamRequest.held`. */
  held: boolean;
  /** See `UpstreamRequest.passOnShed`. */
  passOnShed: boolean;
}

/**
 * Turns a caller's request into its wire form. Header names are lower-cased and merged in
 * increasing precedence: defaults (`accept`, `content-type` when there is a body), the
 * propagated headers, the request's own headers, then `idempotency-key`.
 *
 * @throws RangeError for a timeout that is not a positive number.
 * @throws TypeError when the path is not absolute (`/…`), since a relative or full URL would
 * silently address something other than the chosen instance.
 * @throws whatever `JSON.stringify` throws for a body that cannot be serialised.
 */
export function prepareRequest(
  request: UpstreamRequest,
  propagated: HeaderValues,
  defaultTimeoutMs: number,
): PreparedRequest {
  if (!request.path.startsWith("/") || request.path.startsWith("//")) {
    throw new TypeError(`request path must start with a single "/", got "${request.path}"`);
  }
  const timeoutMs = request.timeoutMs ?? defaultTimeoutMs;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new RangeError(`timeoutMs must be a positive number of ms, got ${timeoutMs}`);
  }
  const body = request.body === undefined ? undefined : JSON.stringify(request.body);
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  assignHeaders(headers, propagated);
  assignHeaders(headers, request.headers ?? {});
  if (request.idempotencyKey !== undefined) headers["idempotency-key"] = request.idempotencyKey;
  headers[REQUEST_TIMEOUT_HEADER] = String(calleeBudgetMs(timeoutMs, headers[REQUEST_TIMEOUT_HEADER]));
  return {
    method: request.method,
    target: withQuery(request.path, request.query),
    headers,
    body,
    timeoutMs,
    retrySafe: isRetrySafe(request.method, headers["idempotency-key"] !== undefined),
    caller: request.caller,
    held: request.held === true,
    passOnShed: request.passOnShed === true,
  };
}

function assignHeaders(target: Record<string, string>, source: HeaderValues): void {
  for (const name in source) {
    if (!Object.hasOwn(source, name)) continue;
    const value = source[name];
    if (value !== undefined) target[name.toLowerCase()] = value;
  }
}

function withQuery(path: string, query: Readonly<Record<string, QueryValue>> | undefined): string {
  if (query === undefined) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  const search = params.toString();
  if (search === "") return path;
  return `${path}${path.includes("?") ? "&" : "?"}${search}`;
}
