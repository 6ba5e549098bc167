import type { Discovery } from "./discovery/discovery.js";
import type { RetryOptions } from "./retry-policy.js";
import type { HeaderValues } from "./upstream-request.js";

/**
 * An instance's breaker opens on a run of counted failures (see `CallerDiverseBreaker`), which
 * any success ends. Counted: refused or dropped connections and 5xx answers, except a 503 with
 * `Retry-After` (an instance shedding load is alive). Not counted: timeouts (a slow instance
 * under a queue is saturated, not down), 4xx, caller aborts.
 */
export interface BreakerOptions {
  /** Consecutive counted failures (see above) that open an instance's breaker. */
  consecutiveFailures: number;
  /** How long an open breaker ejects its instance before letting one trial call through. */
  halfOpenAfterMs: number;
  /**
   * Distinct callers (`UpstreamRequest.caller`) a run of failures must come from to open the
   * breaker, unless the connection itself failed: one client's bad requests cannot open it.
   */
  distinctCallers: number;
}

/**
 * The caller's own credential (a service token): sent as `Authorization: Bearer <token>` on every
 * call, in place of any propagated one. `ServiceTokenProvider` (@blossom/auth) is one.
 */
export interface ClientCredentials {
  /** A token valid now (cached and renewed by the implementation). */
  token(): Promise<string>;
  /** Forgets a token an upstream refused (401), so that `token()` fetches a new one. */
  invalidate(token: string): void;
}

/** What `new ServiceClient(…)` accepts; every tuning knob has a default. */
export interface ServiceClientOptions {
  /** Upstream service name: the discovery key and the name every error message starts with. */
  service: string;
  discovery: Discovery;
  /** Per-attempt timeout. Default 2000 ms. */
  timeoutMs?: number;
  /** Default `{ maxAttempts: 3, initialDelayMs: 50, maxDelayMs: 1000 }`. */
  retry?: Partial<RetryOptions>;
  /** Per-instance breaker. Default `{ consecutiveFailures: 5, halfOpenAfterMs: 5000, distinctCallers: 2 }`. */
  breaker?: Partial<BreakerOptions>;
  /**
   * Propagation hook, called once per request (its attempts share the result): trace context,
   * correlation id, authorization… `undefined` values are left out. If it throws, the request
   * rejects with that error before anything is sent.
   */
  headers?: () => HeaderValues;
  /** Keep-alive connections per instance at most (further requests queue). Default 32. */
  connections?: number;
  /** Who is calling: a service's own token on every call, renewed once on a 401. Unset: none. */
  credentials?: ClientCredentials;
}

export interface ResolvedClientOptions {
  service: string;
  discovery: Discovery;
  timeoutMs: number;
  retry: RetryOptions;
  breaker: BreakerOptions;
  headers: () => HeaderValues;
  connections: number;
  credentials: ClientCredentials | undefined;
}

export const DEFAULT_TIMEOUT_MS = 2000;
export const DEFAULT_RETRY: Readonly<RetryOptions> = { maxAttempts: 3, initialDelayMs: 50, maxDelayMs: 1000 };
export const DEFAULT_BREAKER: Readonly<BreakerOptions> = {
  consecutiveFailures: 5,
  halfOpenAfterMs: 5000,
  distinctCallers: 2,
};
export const DEFAULT_CONNECTIONS = 32;

/**
 * Fills in defaults and validates, so a misconfiguration fails at construction.
 * @throws TypeError for a missing service name or discovery, RangeError for a non-positive or non-integer knob.
 */
export function resolveClientOptions(options: ServiceClientOptions): ResolvedClientOptions {
  if (typeof options.service !== "string" || options.service.trim() === "") {
    throw new TypeError("ServiceClient: `service` must be a non-empty upstream service name");
  }
  if (typeof options.discovery?.instances !== "function") {
    throw new TypeError(`ServiceClient(${options.service}): \`discovery\` must implement instances(service)`);
  }
  const resolved: ResolvedClientOptions = {
    service: options.service,
    discovery: options.discovery,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    retry: { ...DEFAULT_RETRY, ...definedOnly(options.retry) },
    breaker: { ...DEFAULT_BREAKER, ...definedOnly(options.breaker) },
    headers: options.headers ?? (() => ({})),
    connections: options.connections ?? DEFAULT_CONNECTIONS,
    credentials: options.credentials,
  };
  const where = `ServiceClient(${options.service})`;
  positive(where, "timeoutMs", resolved.timeoutMs);
  positiveInteger(where, "retry.maxAttempts", resolved.retry.maxAttempts);
  nonNegative(where, "retry.initialDelayMs", resolved.retry.initialDelayMs);
  nonNegative(where, "retry.maxDelayMs", resolved.retry.maxDelayMs);
  positiveInteger(where, "breaker.consecutiveFailures", resolved.breaker.consecutiveFailures);
  nonNegative(where, "breaker.halfOpenAfterMs", resolved.breaker.halfOpenAfterMs);
  positiveInteger(where, "breaker.distinctCallers", resolved.breaker.distinctCallers);
  positiveInteger(where, "connections", resolved.connections);
  return resolved;
}

/** Drops `undefined` entries so `{ maxAttempts: undefined }` keeps the default. */
function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

function positive(where: string, name: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0))
    throw new RangeError(`${where}: ${name} must be > 0, got ${value}`);
}

function nonNegative(where: string, name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0))
    throw new RangeError(`${where}: ${name} must be >= 0, got ${value}`);
}

function positiveInteger(where: string, name: string, value: number): void {
  if (!(Number.isInteger(value) && value > 0)) {
    throw new RangeError(`${where}: ${name} must be a positive integer, got ${value}`);
  }
}
