import {
  decorrelatedJitterGenerator,
  ExponentialBackoff,
  handleWhen,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
  type RetryPolicy,
  retry,
} from "cockatiel";
import { isUpstreamHttpError, isUpstreamTimeoutError, isUpstreamUnavailableError } from "./errors.js";

export interface RetryOptions {
  /** Attempts in total, the first included (1 disables retries). */
  maxAttempts: number;
  /** Median of the first backoff delay. */
  initialDelayMs: number;
  /** Cap on any single delay, and on the `Retry-After` the client is willing to honour. */
  maxDelayMs: number;
}

/** Methods RFC 9110 defines as idempotent (and that we send): repeating them is harmless. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

/** Whether a request may be repeated: an idempotent method, or an `Idempotency-Key` to dedupe by. */
export function isRetrySafe(method: string, hasIdempotencyKey: boolean): boolean {
  return hasIdempotencyKey || IDEMPOTENT_METHODS.has(method.toUpperCase());
}

/**
 * Whether a failed attempt is worth another one.
 *
 * A retry-safe request is retried on timeouts, lost or refused connections, an instance whose
 * breaker opened under us, and 502/503/504 answers. Any request, retry-safe or not, is retried
 * when the failure proves it never reached the upstream (connection refused, breaker open):
 * repeating something that never happened cannot duplicate it. Never retried: other statuses
 * (4xx above all), caller aborts, unusable answers, and an upstream that is open or empty as a
 * whole (retrying would only delay the fail-fast answer).
 */
export function isRetryable(error: Error, retrySafe: boolean): boolean {
  if (isUpstreamUnavailableError(error)) {
    if (error.reason === "connect-failed" || error.reason === "circuit-open") return true;
    return error.reason === "connection-lost" && retrySafe;
  }
  if (isUpstreamTimeoutError(error)) return retrySafe;
  if (isUpstreamHttpError(error)) return retrySafe && error.retryable;
  return false;
}

/**
 * The retry policy of one kind of request (retry-safe or not): cockatiel `retry` with
 * exponential backoff and decorrelated jitter, honouring a `Retry-After` no longer than
 * `maxDelayMs`. Its delay timers are unref()ed so a pending retry never holds the process open.
 */
export function createRetryPolicy(options: RetryOptions, retrySafe: boolean): RetryPolicy {
  const backoff = new ExponentialBackoff({
    generator: decorrelatedJitterGenerator,
    initialDelay: options.initialDelayMs,
    maxDelay: options.maxDelayMs,
  });
  return retry(
    handleWhen((error) => isRetryable(error, retrySafe)),
    // cockatiel counts retries, not attempts.
    { maxAttempts: options.maxAttempts - 1, backoff: honourRetryAfter(backoff, options.maxDelayMs) },
  ).dangerouslyUnref();
}

type RetryContext = IRetryBackoffContext<unknown>;

/** Wraps a backoff so a usable `Retry-After` from the failed attempt replaces the computed delay. */
function honourRetryAfter(
  inner: IBackoffFactory<unknown>,
  maxDelayMs: number,
): IBackoffFactory<RetryContext> {
  return { next: (context) => step(inner.next(context), context, maxDelayMs) };
}

function step(backoff: IBackoff<unknown>, context: RetryContext, maxDelayMs: number): IBackoff<RetryContext> {
  const result = context.result;
  const hinted =
    "error" in result && isUpstreamHttpError(result.error) ? result.error.retryAfterMs : undefined;
  return {
    // A hint above our cap is ignored rather than obeyed: the retry usually lands on another
    // instance, and the caller's latency budget matters more than one instance's wish.
    duration: hinted !== undefined && hinted <= maxDelayMs ? hinted : backoff.duration,
    next: (nextContext) => step(backoff.next(nextContext), nextContext, maxDelayMs),
  };
}
