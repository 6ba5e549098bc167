/** Stable machine-readable codes carried by every `UpstreamError`. */
export type UpstreamErrorCode =
  | "UPSTREAM_TIMEOUT"
  | "UPSTREAM_UNAVAILABLE"
  | "UPSTREAM_HTTP_ERROR"
  | "UPSTREAM_ABORTED"
  | "UPSTREAM_PROTOCOL_ERROR";

/**
 * Why an upstream was unavailable. All but `connection-lost` mean the request provably never
 * reached the upstream's application (see `neverSent`), so repeating it cannot duplicate it:
 * - `connect-failed`: the TCP/TLS connection could not be opened (refused, unknown host, …);
 * - `circuit-open`: this instance's circuit breaker is open, so the call was not attempted;
 * - `all-circuits-open`: every instance's breaker is open (the upstream as a whole is open);
 * - `no-instances`: discovery lists no instance for the service;
 * - `connection-lost`: the connection failed after the request may have been written;
 * - `client-closed`: `ServiceClient.close()` was called.
 */
export type UnavailableReason =
  | "connect-failed"
  | "circuit-open"
  | "all-circuits-open"
  | "no-instances"
  | "connection-lost"
  | "client-closed";

const BRAND = Symbol.for("@blossom/client.UpstreamError");

/** Methods that change nothing (RFC 9110 "safe"): whatever became of such a request, nothing was done. */
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether a request of this method may change state upstream (an unknown method is assumed to). */
export function changesState(method: string | undefined): boolean {
  return method === undefined || !SAFE_METHODS.has(method.toUpperCase());
}

/** The request an attempt was about, as errors report it. */
export interface AttemptedRequest {
  /** The request's method. */
  method?: string;
  /** Whether repeating the request is harmless: an idempotent method, or an `Idempotency-Key`. */
  idempotent?: boolean;
}

interface UpstreamErrorInit extends AttemptedRequest {
  upstream: string;
  instance?: string;
  retryable: boolean;
  status?: number;
  cause?: unknown;
}

/**
 * Base class of every failure the client reports about an upstream call. Callers branch on
 * `code` (stable strings) or on the subclasses; `message` is for humans and always names the
 * upstream service, and the instance when one was chosen.
 */
export abstract class UpstreamError extends Error {
  abstract readonly code: UpstreamErrorCode;
  /** The upstream service name, e.g. `inventory`. */
  readonly upstream: string;
  /** The instance base URL the failing attempt went to, when one was chosen. */
  readonly instance: string | undefined;
  /** Whether trying again later may succeed (it does not say the client already retried). */
  readonly retryable: boolean;
  /** The HTTP status, when the upstream answered. */
  readonly status: number | undefined;
  /** The method of the request that failed, when the failure is about an attempt of it. */
  readonly method: string | undefined;
  /**
   * Whether repeating the request is harmless (an idempotent method, or an `Idempotency-Key` the
   * upstream dedupes by), when known.
   */
  readonly idempotent: boolean | undefined;

  protected constructor(message: string, init: UpstreamErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.upstream = init.upstream;
    this.instance = init.instance;
    this.retryable = init.retryable;
    this.status = init.status;
    this.method = init.method;
    this.idempotent = init.idempotent;
    // A brand survives duplicated copies of this package, where `instanceof` would not.
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * True when the request may have been carried out upstream although no answer says so: it
   * changes state (not GET, HEAD, OPTIONS) and it reached, or may have reached, the upstream
   * before the call failed (a timeout or a lost connection after it was sent, a 5xx other than
   * 503). Such a failure must be reported as "outcome unknown" (504), never as "not done" (503):
   * a caller told "not done" would do it again. False for failures that prove nothing was done
   * (connection refused, breaker open, no instance, a 503 or a 4xx answer).
   */
  get outcomeUnknown(): boolean {
    return false;
  }
}

/** The instance did not answer (headers and body) within the per-attempt timeout. */
export class UpstreamTimeoutError extends UpstreamError {
  readonly code = "UPSTREAM_TIMEOUT";
  readonly timeoutMs: number;

  constructor(
    init: { upstream: string; instance: string; timeoutMs: number; cause?: unknown } & AttemptedRequest,
  ) {
    super(`${where(init.upstream, init.instance)} did not answer within ${init.timeoutMs} ms`, {
      ...init,
      retryable: true,
    });
    this.timeoutMs = init.timeoutMs;
  }

  /** The request may have been sent (the timeout covers connecting, sending and the answer). */
  override get outcomeUnknown(): boolean {
    return changesState(this.method);
  }
}

/** No instance could take the request: see `reason`. */
export class UpstreamUnavailableError extends UpstreamError {
  readonly code = "UPSTREAM_UNAVAILABLE";
  readonly reason: UnavailableReason;

  constructor(
    init: {
      upstream: string;
      instance?: string;
      reason: UnavailableReason;
      detail?: string;
      cause?: unknown;
    } & AttemptedRequest,
  ) {
    super(unavailableMessage(init.upstream, init.instance, init.reason, init.detail), {
      ...init,
      retryable: init.reason !== "client-closed",
    });
    this.reason = init.reason;
  }

  /** True when the request provably never reached the upstream application. */
  get neverSent(): boolean {
    return this.reason !== "connection-lost";
  }

  override get outcomeUnknown(): boolean {
    return !this.neverSent && changesState(this.method);
  }
}

/**
 * The upstream answered with a non-2xx status (after any retries). `body` is the parsed answer
 * (an RFC 9457 problem object when the upstream follows the platform convention).
 * `retryable` is true for 502, 503 and 504 only (unless the caller passes a shed 503 on).
 */
export class UpstreamHttpError extends UpstreamError {
  readonly code = "UPSTREAM_HTTP_ERROR";
  declare readonly status: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string | string[]>>;
  /** The `Retry-After` delay the upstream asked for, in ms, when it sent a usable one. */
  readonly retryAfterMs: number | undefined;

  constructor(init: {
    upstream: string;
    instance: string;
    method: string;
    path: string;
    status: number;
    body: unknown;
    headers: Readonly<Record<string, string | string[]>>;
    retryAfterMs?: number;
    idempotent?: boolean;
    /** False: never retried, whatever the status (a shed 503 the caller passes on). */
    retryable?: boolean;
  }) {
    const title = problemTitle(init.body);
    super(
      `${where(init.upstream, init.instance)} answered ${init.status} to ${init.method} ${init.path}` +
        (title === undefined ? "" : `: ${title}`),
      { ...init, retryable: init.retryable !== false && RETRYABLE_STATUSES.has(init.status) },
    );
    this.body = init.body;
    this.headers = init.headers;
    this.retryAfterMs = init.retryAfterMs;
  }

  /**
   * A 5xx other than 503 may come after the upstream did part or all of the work; a 503 (by the
   * platform's contract) and a 4xx mean it did nothing.
   */
  override get outcomeUnknown(): boolean {
    return this.status >= 500 && this.status !== 503 && changesState(this.method);
  }
}

/** The caller's `signal` aborted the call; `cause` is the signal's reason. Never retried. */
export class UpstreamAbortedError extends UpstreamError {
  readonly code = "UPSTREAM_ABORTED";

  constructor(init: { upstream: string; instance?: string; cause?: unknown } & AttemptedRequest) {
    super(`call to ${where(init.upstream, init.instance)} was aborted by the caller`, {
      ...init,
      retryable: false,
    });
  }
}

/** The upstream answered 2xx but the body could not be used (invalid JSON, JSON expected). */
export class UpstreamProtocolError extends UpstreamError {
  readonly code = "UPSTREAM_PROTOCOL_ERROR";

  constructor(
    init: {
      upstream: string;
      instance: string;
      status: number;
      detail: string;
      cause?: unknown;
    } & AttemptedRequest,
  ) {
    super(`${where(init.upstream, init.instance)} sent an unusable answer: ${init.detail}`, {
      ...init,
      retryable: false,
    });
  }

  /** The upstream answered 2xx: it did it, but what it answered cannot be read. */
  override get outcomeUnknown(): boolean {
    return changesState(this.method);
  }
}

/**
 * Answers that say the upstream did nothing with the request, so the caller may simply repeat it:
 * 408 (it did not wait for the request), 429 (refused by a limit) and 503 (refused under load or
 * while a dependency is down, by the platform's contract).
 */
export const NOTHING_DONE_STATUSES: ReadonlySet<number> = new Set([408, 429, 503]);

/**
 * The failure a call with several attempts reports. Each attempt's failure is true of that
 * attempt only: after a first attempt that may have been carried out (it timed out once sent),
 * a second one refused (connection refused, breaker open, a 503) says nothing about the first.
 * Reporting the last one would tell the caller "nothing was done" when something may have been:
 * the first failure whose outcome is unknown is reported instead. A last failure that is itself
 * an outcome (a 4xx, an unknown outcome, an abort) is reported as it is.
 */
export function callFailure(last: unknown, attempts: readonly unknown[]): unknown {
  if (!isUpstreamError(last) || last.outcomeUnknown) return last;
  const saysNothingDone = isUpstreamHttpError(last)
    ? NOTHING_DONE_STATUSES.has(last.status)
    : isUpstreamUnavailableError(last) && last.neverSent;
  if (!saysNothingDone) return last;
  return attempts.find((failure) => isUpstreamError(failure) && failure.outcomeUnknown) ?? last;
}

/** Statuses that mean "this instance cannot serve right now, another one or a later try may". */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

export function isUpstreamError(err: unknown): err is UpstreamError {
  return typeof err === "object" && err !== null && BRAND in err;
}

export function isUpstreamTimeoutError(err: unknown): err is UpstreamTimeoutError {
  return isUpstreamError(err) && err.code === "UPSTREAM_TIMEOUT";
}

export function isUpstreamUnavailableError(err: unknown): err is UpstreamUnavailableError {
  return isUpstreamError(err) && err.code === "UPSTREAM_UNAVAILABLE";
}

export function isUpstreamHttpError(err: unknown): err is UpstreamHttpError {
  return isUpstreamError(err) && err.code === "UPSTREAM_HTTP_ERROR";
}

export function isUpstreamAbortedError(err: unknown): err is UpstreamAbortedError {
  return isUpstreamError(err) && err.code === "UPSTREAM_ABORTED";
}

export function isUpstreamProtocolError(err: unknown): err is UpstreamProtocolError {
  return isUpstreamError(err) && err.code === "UPSTREAM_PROTOCOL_ERROR";
}

function where(upstream: string, instance: string | undefined): string {
  return instance === undefined ? upstream : `${upstream} (${instance})`;
}

function unavailableMessage(
  upstream: string,
  instance: string | undefined,
  reason: UnavailableReason,
  detail: string | undefined,
): string {
  const suffix = detail === undefined ? "" : ` (${detail})`;
  switch (reason) {
    case "connect-failed":
      return `${where(upstream, instance)} could not be connected to${suffix}`;
    case "connection-lost":
      return `${where(upstream, instance)} dropped the connection${suffix}`;
    case "circuit-open":
      return `${where(upstream, instance)} is ejected: its circuit breaker is open`;
    case "all-circuits-open":
      return `${upstream} is unavailable: the circuit breaker of every instance is open${suffix}`;
    case "no-instances":
      return `${upstream} is unavailable: discovery lists no instance`;
    case "client-closed":
      return `${upstream} client is closed`;
  }
}

/** The `title` (or `detail`) of a problem+json body, short enough for a log line. */
function problemTitle(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const text = typeof record.title === "string" ? record.title : record.detail;
  return typeof text === "string" ? text.slice(0, 200) : undefined;
}
