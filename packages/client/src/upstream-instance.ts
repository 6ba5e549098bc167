import { setMaxListeners } from "node:events";
import { isBrokenCircuitError, TaskCancelledError } from "cockatiel";
import { Pool } from "undici";
import { runWithAttemptTimeout } from "./attempt-timeout.js";
import { markFailedCaller } from "./caller-diverse-breaker.js";
import type { BreakerOptions } from "./client-options.js";
import {
  isUpstreamError,
  isUpstreamHttpError,
  isUpstreamUnavailableError,
  UpstreamAbortedError,
  UpstreamHttpError,
  UpstreamProtocolError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from "./errors.js";
import { type BreakerState, InstanceBreaker } from "./instance-breaker.js";
import { classifyNetworkError } from "./network-errors.js";
import { decodeBody } from "./response-body.js";
import { parseRetryAfter } from "./retry-after.js";
import type { PreparedRequest, UpstreamResponse, UpstreamStreamResponse } from "./upstream-request.js";

/**
 * The signal the breaker policy is run with (the caller's abort is handled apart, see
 * #exchange; the attempt's timeout has a controller of its own). cockatiel's own default is one
 * signal shared by every call, on which a derived policy listens while its attempt is in flight:
 * past ten concurrent attempts Node warned of a listener leak that is none. This one says that
 * many listeners are expected.
 */
const NEVER_ABORTED = new AbortController().signal;
setMaxListeners(0, NEVER_ABORTED);

/** Health and traffic figures of one instance, for readiness checks and metrics. */
export interface InstanceStats {
  instance: string;
  breaker: BreakerState;
  /** Whether the balancer would send a call here now (closed, or due for a trial call). */
  acceptsCalls: boolean;
  inFlight: number;
  /** Attempts sent to this instance. */
  attempts: number;
  /** Attempts counted against it by its breaker: connection failures, 5xx answers but a shed 503. */
  failures: number;
  /** Calls its open breaker turned away without sending anything. */
  rejected: number;
}

export interface UpstreamInstanceOptions {
  upstream: string;
  /** Base URL from discovery: origin plus an optional path prefix. */
  url: string;
  connections: number;
  breaker: BreakerOptions;
}

/** Held requests in flight to one instance at most; more queue in undici (the gateway sheds first). */
const MAX_HELD_CONNECTIONS = 1024;

/**
 * One instance of an upstream service: its keep-alive undici `Pool`, its circuit breaker and
 * its counters. `send` runs one attempt through the breaker, bounded by its timeout
 * (`runWithAttemptTimeout`, inside the breaker as `wrap(breaker, timeout)` was), and always settles
 * with the answer or an `UpstreamError` naming this instance (or, for a bug such as an invalid
 * header, with the original error).
 */
export class UpstreamInstance {
  readonly url: string;
  readonly breaker: InstanceBreaker;
  readonly #upstream: string;
  readonly #pool: Pool;
  /** Connections of held requests (`Prefer: wait`), made on first use: see `UpstreamRequest.held`. */
  #heldPool: Pool | undefined;
  readonly #origin: string;
  readonly #pathPrefix: string;
  #inFlight = 0;
  #attempts = 0;
  #failures = 0;
  #rejected = 0;

  /** @throws TypeError when `url` is not an absolute http(s) URL. */
  constructor(options: UpstreamInstanceOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new TypeError(`${options.upstream}: discovery returned an invalid instance URL "${options.url}"`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new TypeError(`${options.upstream}: instance URL "${options.url}" is not http(s)`);
    }
    this.url = options.url;
    this.#upstream = options.upstream;
    this.#pathPrefix = parsed.pathname.replace(/\/+$/, "");
    this.#origin = parsed.origin;
    this.#pool = new Pool(parsed.origin, { connections: options.connections });
    this.breaker = new InstanceBreaker({
      ...options.breaker,
      countsAsFailure: countsAgainstInstance,
      isTransportFailure,
    });
  }

  /**
   * Sends one attempt, bounded by `request.timeoutMs` (aggressive: it rejects on time even if the
   * socket lingers, and aborts the undici request). `callerSignal` aborts it too, but as a
   * caller decision: that is an `UpstreamAbortedError` and never a breaker failure.
   */
  async send(request: PreparedRequest, callerSignal: AbortSignal | undefined): Promise<UpstreamResponse> {
    const answer = await this.#attempt(request, callerSignal, false);
    if ("text" in answer) return this.#toResponse(request, answer.status, answer.headers, answer.text);
    return answer;
  }

  /**
   * Like `send`, but resolves as soon as a 2xx answer's headers arrive, with its body still
   * streaming (server-sent events, downloads). The timeout bounds the wait for the headers
   * only, so it does not abort on return, or the body would be cut the moment it is handed
   * over. A non-2xx answer is read in full and rejected as in `send`.
   */
  async sendStreaming(
    request: PreparedRequest,
    callerSignal: AbortSignal | undefined,
  ): Promise<UpstreamStreamResponse> {
    const answer = await this.#attempt(request, callerSignal, true);
    if ("text" in answer) throw new Error("unreachable: a streamed 2xx answer was read in full");
    return answer;
  }

  async #attempt(
    request: PreparedRequest,
    callerSignal: AbortSignal | undefined,
    streaming: boolean,
  ): Promise<RawAnswer | UpstreamStreamResponse> {
    let sent = false;
    try {
      return await this.breaker.policy.execute(async () => {
        sent = true;
        try {
          // A streamed answer must outlive the attempt: its timeout does not abort on return.
          return await runWithAttemptTimeout(request.timeoutMs, !streaming, async (signal) => {
            const answer = await this.#exchange(request, signal, callerSignal, streaming);
            // Thrown inside the breaker, so a 5xx counts against the instance and a 4xx does not.
            if ("text" in answer && (answer.status < 200 || answer.status > 299))
              this.#toResponse(request, answer.status, answer.headers, answer.text);
            return answer;
          });
        } catch (error) {
          // The breaker reads who the attempt was for when it counts the failure.
          markFailedCaller(error, request.caller);
          throw error;
        }
      }, NEVER_ABORTED);
    } catch (error) {
      if (!sent) this.#rejected++;
      else if (error instanceof Error && countsAgainstInstance(error)) this.#failures++;
      throw this.#toUpstreamError(error, request, callerSignal);
    }
  }

  stats(now: number = Date.now()): InstanceStats {
    return {
      instance: this.url,
      breaker: this.breaker.state,
      acceptsCalls: this.breaker.acceptsCalls(now),
      inFlight: this.#inFlight,
      attempts: this.#attempts,
      failures: this.#failures,
      rejected: this.#rejected,
    };
  }

  /** Closes the pool once the requests in flight have finished (they are bounded by timeouts). */
  async close(): Promise<void> {
    await Promise.all([this.#pool.close(), this.#heldPool?.close()]);
  }

  /**
   * Held requests get a pool of their own: held in the ordinary one, they would fill its
   * connections while new calls (a checkout's POST) queue behind answers that may take seconds.
   * Its size is bounded by the callers (the gateway's bulkhead for held requests).
   */
  #poolFor(request: PreparedRequest): Pool {
    if (!request.held) return this.#pool;
    this.#heldPool ??= new Pool(this.#origin, { connections: MAX_HELD_CONNECTIONS });
    return this.#heldPool;
  }

  async #exchange(
    request: PreparedRequest,
    timeoutSignal: AbortSignal,
    callerSignal: AbortSignal | undefined,
    streaming: boolean,
  ): Promise<RawAnswer | UpstreamStreamResponse> {
    // The timeout policy's signal is not derived from the caller's, so that a caller abort is
    // told apart from a timeout (cockatiel would report both as TaskCancelledError).
    const signal =
      callerSignal === undefined ? timeoutSignal : AbortSignal.any([timeoutSignal, callerSignal]);
    this.#attempts++;
    this.#inFlight++;
    let status: number;
    let headers: Record<string, string | string[]>;
    let text: string;
    try {
      const answer = await this.#poolFor(request).request({
        path: this.#pathPrefix + request.target,
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal,
      });
      status = answer.statusCode;
      headers = definedHeaders(answer.headers);
      if (streaming && status >= 200 && status <= 299) {
        return { status, headers, body: answer.body, instance: this.url };
      }
      // Read in full inside the timeout: a body that trickles in counts against it too.
      text = await answer.body.text();
    } catch (error) {
      if (callerSignal?.aborted) {
        throw new UpstreamAbortedError({
          upstream: this.#upstream,
          instance: this.url,
          cause: callerSignal.reason,
          ...attempted(request),
        });
      }
      // After a timeout this rejection is dropped: the timeout policy has already settled.
      const failure = classifyNetworkError(error);
      if (failure === undefined) throw error;
      throw new UpstreamUnavailableError({
        upstream: this.#upstream,
        instance: this.url,
        ...attempted(request),
        reason: failure.reason,
        detail: failure.detail,
        cause: error,
      });
    } finally {
      this.#inFlight--;
    }
    return { status, headers, text };
  }

  #toResponse(
    request: PreparedRequest,
    status: number,
    headers: Record<string, string | string[]>,
    text: string,
  ): UpstreamResponse {
    const decoded = decodeBody(text, headers["content-type"]);
    if (status < 200 || status > 299) {
      const retryAfterMs = parseRetryAfter(headers["retry-after"]);
      // Thrown inside the breaker, so a 5xx counts against the instance and a 4xx does not.
      throw new UpstreamHttpError({
        upstream: this.#upstream,
        instance: this.url,
        method: request.method,
        path: request.target,
        idempotent: request.retrySafe,
        status,
        body: decoded.ok ? decoded.value : decoded.text,
        headers,
        retryAfterMs,
        ...(request.passOnShed && status === 503 && retryAfterMs !== undefined ? { retryable: false } : {}),
      });
    }
    if (!decoded.ok) {
      throw new UpstreamProtocolError({
        upstream: this.#upstream,
        instance: this.url,
        ...attempted(request),
        status,
        detail: `invalid JSON body (${decoded.error.message})`,
        cause: decoded.error,
      });
    }
    return { status, headers, body: decoded.value, instance: this.url };
  }

  #toUpstreamError(error: unknown, request: PreparedRequest, callerSignal: AbortSignal | undefined): unknown {
    if (isUpstreamError(error)) return error;
    const at = { upstream: this.#upstream, instance: this.url, ...attempted(request) };
    if (callerSignal?.aborted) return new UpstreamAbortedError({ ...at, cause: callerSignal.reason });
    if (isAttemptTimeout(error))
      return new UpstreamTimeoutError({ ...at, timeoutMs: request.timeoutMs, cause: error });
    if (isBrokenCircuitError(error))
      return new UpstreamUnavailableError({ ...at, reason: "circuit-open", cause: error });
    return error;
  }
}

/**
 * The breaker's failure filter: the instance looks down — a transport failure (refused or
 * dropped connection) or a 5xx answer, except a 503 with `Retry-After`. Not counted, because the
 * instance is alive and ejecting it would only turn some refusals into all of them: a 503 with
 * `Retry-After` (by the platform's contract, load shed before any work: the instance is
 * saturated, not down) and a timeout (reported by cockatiel as TaskCancelledError here: an
 * instance slow under a queue; the attempt's timeout and the gateway's bulkhead bound what it
 * costs). A 4xx is the caller's problem and a caller abort is nobody's, so neither counts.
 */
function countsAgainstInstance(error: Error): boolean {
  if (isAttemptTimeout(error)) return false;
  if (isUpstreamHttpError(error)) return error.status >= 500 && !isShed(error);
  return isTransportFailure(error);
}

/** A 503 with `Retry-After`: the instance refused the request before doing anything (overload). */
function isShed(error: UpstreamHttpError): boolean {
  return error.status === 503 && error.headers["retry-after"] !== undefined;
}

/** A failure of the connection itself: the instance is gone or dropping calls, whoever sent them. */
function isTransportFailure(error: Error): boolean {
  return (
    isUpstreamUnavailableError(error) &&
    (error.reason === "connect-failed" || error.reason === "connection-lost")
  );
}

/**
 * The aggressive timeout policy rejects with TaskCancelledError (the caller's signal is not
 * handed to it, so nothing else produces one here). Not cockatiel's `isTaskCancelledError`:
 * in 3.2.1 it tests the wrong marker property and never matches.
 */
function isAttemptTimeout(error: unknown): boolean {
  return error instanceof TaskCancelledError;
}

/** What an error says of the request it is about: see `UpstreamError.outcomeUnknown`. */
function attempted(request: PreparedRequest): { method: string; idempotent: boolean } {
  return { method: request.method, idempotent: request.retrySafe };
}

/** An answer read in full, not yet decoded. */
interface RawAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  text: string;
}

function definedHeaders(
  raw: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const name in raw) {
    const value = raw[name];
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}
