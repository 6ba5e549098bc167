import type { RetryPolicy } from "cockatiel";
import {
  type ResolvedClientOptions,
  resolveClientOptions,
  type ServiceClientOptions,
} from "./client-options.js";
import {
  callFailure,
  isUpstreamHttpError,
  UpstreamAbortedError,
  UpstreamProtocolError,
  UpstreamUnavailableError,
} from "./errors.js";
import { InstanceBalancer } from "./instance-balancer.js";
import type { BreakerState } from "./instance-breaker.js";
import { isJsonContentType } from "./response-body.js";
import { createRetryPolicy } from "./retry-policy.js";
import { type InstanceStats, UpstreamInstance } from "./upstream-instance.js";
import {
  type PreparedRequest,
  prepareRequest,
  type RequestOptions,
  type UpstreamRequest,
  type UpstreamResponse,
  type UpstreamStreamResponse,
} from "./upstream-request.js";

/** One attempt of a call on one instance: `send` or `sendStreaming`. */
type Attempt<T> = (instance: UpstreamInstance, prepared: PreparedRequest) => Promise<T>;

/** What `ServiceClient.stats()` reports. */
export interface ServiceClientStats {
  service: string;
  /** The upstream as a whole: see `ServiceClient.breakerState()`. */
  state: BreakerState;
  instances: InstanceStats[];
}

/**
 * The resilient HTTP client of one upstream service, e.g. `new ServiceClient({ service:
 * "inventory", discovery })`. Create one per upstream and share it: it owns a keep-alive undici
 * pool and a circuit breaker per instance, and nothing is shared with other clients.
 *
 * Every call:
 * - goes to the instances `discovery` lists, round-robin, skipping any whose breaker is open;
 * - is bounded per attempt by `timeoutMs` (the undici request is aborted on expiry);
 * - is retried with exponential backoff and decorrelated jitter, on another instance when there
 *   is one, if it is retry-safe (GET, HEAD, PUT, DELETE, OPTIONS, or an `Idempotency-Key`) and
 *   failed on a timeout, a lost connection or a 502/503/504; any request is also retried when it
 *   provably never left (connection refused, breaker opened under it); 4xx never are;
 * - resolves with a 2xx answer, or rejects with an `UpstreamError` subclass whose message names
 *   the upstream and instance. Bugs (invalid path, header, unserialisable body) reject with
 *   TypeError/RangeError instead. After retries, the error is the last attempt's, unless that
 *   one says nothing was done (refused, breaker open, a 503) while an earlier attempt may have
 *   been carried out: then it is that earlier one, whose `outcomeUnknown` is true (`callFailure`).
 *
 * Timers are unref()ed: a client never keeps the process alive by itself; `close()` releases
 * the sockets.
 */
export class ServiceClient {
  readonly service: string;
  readonly #options: ResolvedClientOptions;
  readonly #instances = new Map<string, UpstreamInstance>();
  readonly #balancer = new InstanceBalancer();
  readonly #retrySafe: RetryPolicy;
  readonly #retryUnsafe: RetryPolicy;
  readonly #unwatch: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  /** @throws TypeError/RangeError for invalid options (see `resolveClientOptions`). */
  constructor(options: ServiceClientOptions) {
    this.#options = resolveClientOptions(options);
    this.service = this.#options.service;
    this.#retrySafe = createRetryPolicy(this.#options.retry, true);
    this.#retryUnsafe = createRetryPolicy(this.#options.retry, false);
    // Requests re-read discovery anyway; watching only lets a removed instance's pool close
    // promptly even when no traffic comes.
    this.#unwatch = this.#options.discovery.watch?.(this.service, (urls) => this.#reconcile(urls));
  }

  /**
   * Performs one logical call (with its retries). Resolves with the 2xx answer; rejects with
   * `UpstreamHttpError` (non-2xx after retries), `UpstreamTimeoutError`,
   * `UpstreamUnavailableError`, `UpstreamAbortedError` or `UpstreamProtocolError`.
   */
  async request(request: UpstreamRequest): Promise<UpstreamResponse> {
    return this.#call(request, (instance, prepared) => instance.send(prepared, request.signal));
  }

  /**
   * Like `request`, but resolves once a 2xx answer's headers arrive, with `body` a stream still
   * arriving (server-sent events, large downloads): the per-attempt timeout bounds the wait for
   * the headers, not the whole body, and retries happen only before any byte is handed over.
   * The caller must consume or destroy `body`; aborting `request.signal` later also ends it.
   */
  async stream(request: UpstreamRequest): Promise<UpstreamStreamResponse> {
    return this.#call(request, (instance, prepared) => instance.sendStreaming(prepared, request.signal));
  }

  async #call<T>(request: UpstreamRequest, attempt: Attempt<T>): Promise<T> {
    if (this.#closing !== undefined) {
      throw new UpstreamUnavailableError({ upstream: this.service, reason: "client-closed" });
    }
    const credentials = this.#options.credentials;
    if (!credentials) return this.#callWith(request, undefined, attempt);
    // An upstream that answers 401 refused the token itself (signed by a key it no longer
    // knows, say): it is dropped and the call made once more with a new one. A 401 means
    // nothing was done, so repeating is safe.
    const token = await credentials.token();
    try {
      return await this.#callWith(request, token, attempt);
    } catch (error) {
      if (!(isUpstreamHttpError(error) && error.status === 401)) throw error;
      credentials.invalidate(token);
      const fresh = await credentials.token();
      if (fresh === token) throw error;
      return this.#callWith(request, fresh, attempt);
    }
  }

  #callWith<T>(request: UpstreamRequest, token: string | undefined, attempt: Attempt<T>): Promise<T> {
    const propagated = this.#options.headers();
    // The caller's own credential replaces any token the request context would forward.
    const headers = token === undefined ? propagated : { ...propagated, authorization: `Bearer ${token}` };
    // Each attempt is bounded by `prepared.timeoutMs` (UpstreamInstance).
    const prepared = prepareRequest(request, headers, this.#options.timeoutMs);
    const tried = new Set<UpstreamInstance>();
    const { signal } = request;
    const policy = prepared.retrySafe ? this.#retrySafe : this.#retryUnsafe;
    // Every attempt's failure: the call reports the one that says the most about what was done.
    const failures: unknown[] = [];
    return policy
      .execute(async () => {
        // cockatiel still runs an attempt after a backoff even if the caller gave up meanwhile.
        if (signal?.aborted) throw new UpstreamAbortedError({ upstream: this.service, cause: signal.reason });
        const instance = this.#choose(tried);
        tried.add(instance);
        try {
          return await attempt(instance, prepared);
        } catch (error) {
          failures.push(error);
          throw error;
        }
      }, signal)
      .catch((error: unknown) => {
        throw callFailure(error, failures);
      });
  }

  /** GETs a JSON resource; `T` is trusted, not validated. Rejects like `request`. */
  async getJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return jsonBody<T>(this.service, await this.request({ ...options, method: "GET", path }));
  }

  /**
   * POSTs `body` as JSON and returns the JSON answer (`undefined` for an empty one, e.g. 204).
   * Not retried on timeouts or 5xx unless `options.idempotencyKey` is given.
   */
  async postJson<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return jsonBody<T>(this.service, await this.request({ ...options, method: "POST", path, body }));
  }

  /** PUTs `body` as JSON (retry-safe) and returns the JSON answer. */
  async putJson<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return jsonBody<T>(this.service, await this.request({ ...options, method: "PUT", path, body }));
  }

  /** PATCHes with `body` as JSON (retried only with an idempotency key). */
  async patchJson<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return jsonBody<T>(this.service, await this.request({ ...options, method: "PATCH", path, body }));
  }

  /** DELETEs (retry-safe) and returns the JSON answer, if any. */
  async deleteJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return jsonBody<T>(this.service, await this.request({ ...options, method: "DELETE", path }));
  }

  /**
   * Breaker state of one instance (`"closed"` for one never called), or of the upstream as a
   * whole: `"closed"` while some instance's breaker is closed, `"open"` when no instance would
   * take a call (every breaker open, or no instance listed), `"half-open"` otherwise.
   */
  breakerState(instance?: string): BreakerState {
    if (instance !== undefined) return this.#instances.get(instance)?.breaker.state ?? "closed";
    return aggregateState(this.stats().instances);
  }

  /**
   * Ordinary (not held) requests that can be in flight at once without waiting for a connection:
   * `connections` per instance taking calls, or `perInstance` when it is fewer (at least one
   * instance's worth, so that a trial call still goes out while every breaker is open).
   */
  capacity(perInstance = this.#options.connections): number {
    const now = Date.now();
    let open = 0;
    for (const instance of this.#current()) if (instance.breaker.acceptsCalls(now)) open++;
    return Math.min(perInstance, this.#options.connections) * Math.max(open, 1);
  }

  /** Per-instance health and traffic figures, for readiness probes and metrics. */
  stats(): ServiceClientStats {
    const now = Date.now();
    const instances = this.#current().map((instance) => instance.stats(now));
    return { service: this.service, state: aggregateState(instances), instances };
  }

  /**
   * Stops taking requests (they reject with `UpstreamUnavailableError`, reason `client-closed`)
   * and closes every pool once its requests in flight have settled. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#unwatch?.();
      const instances = [...this.#instances.values()];
      this.#instances.clear();
      await Promise.all(instances.map((instance) => instance.close()));
    })();
    return this.#closing;
  }

  /** Picks the instance for the next attempt, preferring one this call has not tried. */
  #choose(tried: ReadonlySet<UpstreamInstance>): UpstreamInstance {
    if (this.#closing !== undefined) {
      throw new UpstreamUnavailableError({ upstream: this.service, reason: "client-closed" });
    }
    const instances = this.#current();
    if (instances.length === 0)
      throw new UpstreamUnavailableError({ upstream: this.service, reason: "no-instances" });
    const now = Date.now();
    const chosen = this.#balancer.pick(
      instances,
      (instance) => instance.breaker.acceptsCalls(now),
      (instance) => tried.has(instance),
    );
    if (chosen === undefined) {
      throw new UpstreamUnavailableError({
        upstream: this.service,
        reason: "all-circuits-open",
        detail: `${instances.length} instance${instances.length === 1 ? "" : "s"}`,
      });
    }
    return chosen;
  }

  /** The instances discovery lists now, in its order, with their pools and breakers. */
  #current(): UpstreamInstance[] {
    if (this.#closing !== undefined) return [];
    return this.#reconcile(this.#options.discovery.instances(this.service));
  }

  /** Creates state for new instances and retires the ones discovery no longer lists. */
  #reconcile(urls: readonly string[]): UpstreamInstance[] {
    if (this.#closing !== undefined) return [];
    const listed = new Set(urls);
    for (const [url, instance] of this.#instances) {
      if (listed.has(url)) continue;
      this.#instances.delete(url);
      // Graceful: requests in flight finish; a close error has nobody left to report to.
      instance.close().catch(() => {});
    }
    const current: UpstreamInstance[] = [];
    for (const url of listed) {
      let instance = this.#instances.get(url);
      if (instance === undefined) {
        instance = new UpstreamInstance({
          upstream: this.service,
          url,
          connections: this.#options.connections,
          breaker: this.#options.breaker,
        });
        this.#instances.set(url, instance);
      }
      current.push(instance);
    }
    return current;
  }
}

function aggregateState(instances: readonly InstanceStats[]): BreakerState {
  if (instances.some((instance) => instance.breaker === "closed")) return "closed";
  if (!instances.some((instance) => instance.acceptsCalls || instance.breaker === "half-open")) return "open";
  return "half-open";
}

/** The body of a JSON answer, or `undefined` for an empty one; anything else is a protocol error. */
function jsonBody<T>(service: string, response: UpstreamResponse): T {
  if (response.body === undefined) return undefined as T;
  if (!isJsonContentType(response.headers["content-type"])) {
    throw new UpstreamProtocolError({
      upstream: service,
      instance: response.instance,
      status: response.status,
      detail: `expected JSON, got content-type "${String(response.headers["content-type"] ?? "none")}"`,
    });
  }
  return response.body as T;
}
