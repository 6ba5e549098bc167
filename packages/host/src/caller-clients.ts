import type { ServiceTokenProvider } from "@blossom/auth";
import {
  type HeaderValues,
  isUpstreamHttpError,
  type RequestOptions,
  type ServiceClient,
  type UpstreamRequest,
  type UpstreamResponse,
} from "@blossom/client";

/**
 * What a service calls another one with: the public surface of a `ServiceClient`, without
 * `close` (the process owns the shared clients, not the services that borrow them).
 */
export type UpstreamClient = Pick<
  ServiceClient,
  | "service"
  | "request"
  | "getJson"
  | "postJson"
  | "putJson"
  | "patchJson"
  | "deleteJson"
  | "breakerState"
  | "stats"
>;

/** The clients one service calls the others with, as `context.clients`. */
export interface CallerClients {
  get(service: string): UpstreamClient;
}

/**
 * The process's shared clients seen by one service: every call carries that service's own
 * service token as `Authorization` (replacing any caller's token the request context would
 * forward), so the upstream knows which service calls it without trusting the network. The
 * resilient clients underneath (pools, breakers) stay shared by all services of the process.
 */
export class TokenBearingClients implements CallerClients {
  readonly #shared: { get(service: string): ServiceClient };
  readonly #tokens: ServiceTokenProvider;
  readonly #views = new Map<string, UpstreamClient>();

  constructor(shared: { get(service: string): ServiceClient }, tokens: ServiceTokenProvider) {
    this.#shared = shared;
    this.#tokens = tokens;
  }

  get(service: string): UpstreamClient {
    let view = this.#views.get(service);
    if (!view) {
      view = new TokenBearingClient(this.#shared.get(service), this.#tokens);
      this.#views.set(service, view);
    }
    return view;
  }
}

class TokenBearingClient implements UpstreamClient {
  readonly #client: ServiceClient;
  readonly #tokens: ServiceTokenProvider;

  constructor(client: ServiceClient, tokens: ServiceTokenProvider) {
    this.#client = client;
    this.#tokens = tokens;
  }

  get service(): string {
    return this.#client.service;
  }

  request(request: UpstreamRequest): Promise<UpstreamResponse> {
    return this.#withToken(request.headers, (headers) => this.#client.request({ ...request, headers }));
  }

  getJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.#withToken(options.headers, (headers) =>
      this.#client.getJson<T>(path, { ...options, headers }),
    );
  }

  postJson<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return this.#withToken(options.headers, (headers) =>
      this.#client.postJson<T>(path, body, { ...options, headers }),
    );
  }

  putJson<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return this.#withToken(options.headers, (headers) =>
      this.#client.putJson<T>(path, body, { ...options, headers }),
    );
  }

  patchJson<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return this.#withToken(options.headers, (headers) =>
      this.#client.patchJson<T>(path, body, { ...options, headers }),
    );
  }

  deleteJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.#withToken(options.headers, (headers) =>
      this.#client.deleteJson<T>(path, { ...options, headers }),
    );
  }

  breakerState(instance?: string): ReturnType<ServiceClient["breakerState"]> {
    return this.#client.breakerState(instance);
  }

  stats(): ReturnType<ServiceClient["stats"]> {
    return this.#client.stats();
  }

  /**
   * Runs `call` with the service token added to `headers`. An upstream that answers 401 refused
   * the token itself (signed by a key it no longer knows, say): it is dropped and the call made
   * once more with a new one. A 401 means nothing was done, so repeating is safe.
   */
  async #withToken<T>(
    headers: HeaderValues | undefined,
    call: (headers: HeaderValues) => Promise<T>,
  ): Promise<T> {
    const token = await this.#tokens.token();
    try {
      return await call({ ...headers, authorization: `Bearer ${token}` });
    } catch (error) {
      if (!(isUpstreamHttpError(error) && error.status === 401)) throw error;
      this.#tokens.invalidate(token);
      const fresh = await this.#tokens.token();
      if (fresh === token) throw error;
      return call({ ...headers, authorization: `Bearer ${fresh}` });
    }
  }
}

/**
 * A service's clients that remember which upstreams the service asked for, so that its metrics
 * report the circuit breaker of each upstream it actually calls (orders → inventory), not of
 * every client the process shares.
 */
export class UpstreamsInUse implements CallerClients {
  readonly #clients: CallerClients;
  readonly #used = new Set<string>();

  constructor(clients: CallerClients) {
    this.#clients = clients;
  }

  get(service: string): UpstreamClient {
    this.#used.add(service);
    return this.#clients.get(service);
  }

  /** Each upstream called so far with its breaker state as a whole (`ServiceClient.stats()`). */
  breakers(): { upstream: string; state: ReturnType<ServiceClient["breakerState"]> }[] {
    return [...this.#used].map((upstream) => ({
      upstream,
      state: this.#clients.get(upstream).stats().state,
    }));
  }
}
