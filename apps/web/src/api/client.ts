import type { Problem, TokenPair } from "./types.js";

/**
 * The shop's one way to the API: same origin, JSON, problem+json errors turned into ApiError.
 *
 * Tokens: the access token lives in this module's memory only (never localStorage, never a
 * cookie readable by scripts); the refresh token is the users service's HttpOnly cookie (cookie
 * mode, `Prefer: refresh-token=cookie`), which this code never sees. A 401 on an authenticated
 * call refreshes once (one refresh in flight, shared) and retries; a failed refresh signs out.
 */

/** What went wrong, in the API's own words, with what the shop needs to say it to a person. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  /** Seconds to wait (from `Retry-After`), on 429 and 503. */
  readonly retryAfter: number | undefined;

  constructor(status: number, problem: Problem, retryAfter?: number) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  /** The problem type's slug (`validation-error`, `out-of-stock`, …). */
  get slug(): string {
    return this.problem.type?.split("/").pop() ?? "";
  }
}

/** The platform could not be reached at all (network down, gateway stopped). */
export class UnreachableError extends Error {
  constructor() {
    super("unreachable");
    this.name = "UnreachableError";
  }
}

export const isApiError = (error: unknown): error is ApiError => error instanceof ApiError;
export const isUnreachable = (error: unknown): error is UnreachableError => error instanceof UnreachableError;
export const isAbort = (error: unknown): boolean =>
  error instanceof DOMException && error.name === "AbortError";

let accessToken: string | undefined;
let refreshing: Promise<boolean> | undefined;
const sessionListeners = new Set<(signedIn: boolean) => void>();

/** Called with `false` when the session ends by itself (refresh refused): the UI signs out. */
export function onSessionChange(listener: (signedIn: boolean) => void): () => void {
  sessionListeners.add(listener);
  return () => sessionListeners.delete(listener);
}

export function hasAccessToken(): boolean {
  return accessToken !== undefined;
}

export function setAccessToken(token: string | undefined): void {
  accessToken = token;
}

const COOKIE_MODE = { prefer: "refresh-token=cookie" };

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Send the access token (and refresh it on a 401). Default: when there is one. */
  auth?: boolean;
}

async function send(path: string, options: RequestOptions, token: string | undefined): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json", ...options.headers };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    return await fetch(path, {
      method: options.method ?? "GET",
      headers,
      credentials: "same-origin",
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (isAbort(error)) throw error;
    throw new UnreachableError();
  }
}

async function parse<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (response.ok) return body as T;
  const retry = Number(response.headers.get("retry-after"));
  const problem: Problem =
    body && typeof body === "object"
      ? (body as Problem)
      : { title: response.statusText, status: response.status };
  // A gateway that answers but whose platform is down behind it reads as "unreachable" too.
  throw new ApiError(response.status, problem, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

/** One shared refresh: a new access token from the refresh cookie, or false (signed out). */
export function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const response = await send(
        "/api/auth/refresh",
        { method: "POST", body: {}, headers: COOKIE_MODE },
        undefined,
      );
      if (!response.ok) {
        accessToken = undefined;
        // 401: no cookie, or it no longer works. Anything else: say nothing, try again later.
        return false;
      }
      const pair = (await response.json()) as TokenPair;
      accessToken = pair.accessToken;
      return true;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

/** A JSON request to the API; throws ApiError (a problem) or UnreachableError. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const auth = options.auth ?? accessToken !== undefined;
  let response = await send(path, options, auth ? accessToken : undefined);
  if (response.status === 401 && auth) {
    if (await refreshSession()) {
      response = await send(path, options, accessToken);
    } else {
      for (const listener of sessionListeners) listener(false);
    }
  }
  return parse<T>(response);
}

/**
 * A conditional read: with the `ETag` the page has (`If-None-Match`), the answer is the resource
 * only if it changed (`body`), or nothing (304: `body` undefined); always the current `etag`.
 */
export async function apiWithETag<T>(
  path: string,
  etag: string | null,
  options: RequestOptions = {},
): Promise<{ body: T | undefined; etag: string | null }> {
  const conditional = etag ? { ...options, headers: { ...options.headers, "if-none-match": etag } } : options;
  const auth = options.auth ?? accessToken !== undefined;
  let response = await send(path, conditional, auth ? accessToken : undefined);
  if (response.status === 401 && auth) {
    if (await refreshSession()) response = await send(path, conditional, accessToken);
    else for (const listener of sessionListeners) listener(false);
  }
  const current = response.headers.get("etag") ?? etag;
  if (response.status === 304) return { body: undefined, etag: current };
  return { body: await parse<T>(response), etag: current };
}

/** Signs in in cookie mode: the access token is kept here, the refresh token stays a cookie. */
export async function logIn(email: string, password: string): Promise<void> {
  const pair = await parse<TokenPair>(
    await send(
      "/api/auth/login",
      { method: "POST", body: { email, password }, headers: COOKIE_MODE },
      undefined,
    ),
  );
  accessToken = pair.accessToken;
}

/** Signs out: the refresh family is revoked and the cookie cleared, whatever the access token. */
export async function logOut(): Promise<void> {
  accessToken = undefined;
  await send("/api/auth/logout", { method: "POST", body: {}, headers: COOKIE_MODE }, undefined).catch(
    () => {},
  );
}

/** A fresh Idempotency-Key for a new command (kept by the caller to retry the same command). */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
