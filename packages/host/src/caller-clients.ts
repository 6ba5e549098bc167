import type { ServiceClient } from "@blossom/client";

/**
 * What a service calls another one with: the public surface of a `ServiceClient`, without
 * `close` (the process owns the clients, not the services that borrow them).
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

/**
 * One service's clients to the others, as `context.clients`: one `ServiceClient` per upstream,
 * made the first time the service asks for it (by the process, which gives them the service's
 * own credentials) and remembered, so that the service's metrics report the circuit breaker of
 * each upstream it actually calls (orders → inventory), not of every client in the process.
 */
export class CallerClients {
  readonly #create: (service: string) => ServiceClient;
  readonly #clients = new Map<string, ServiceClient>();

  constructor(create: (service: string) => ServiceClient) {
    this.#create = create;
  }

  get(service: string): UpstreamClient {
    let client = this.#clients.get(service);
    if (!client) {
      client = this.#create(service);
      this.#clients.set(service, client);
    }
    return client;
  }

  /** Each upstream called so far with its breaker state as a whole (`ServiceClient.stats()`). */
  breakers(): { upstream: string; state: ReturnType<ServiceClient["breakerState"]> }[] {
    return [...this.#clients].map(([upstream, client]) => ({ upstream, state: client.stats().state }));
  }
}
