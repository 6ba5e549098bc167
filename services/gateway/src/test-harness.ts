import { ServiceClient, StaticDiscovery } from "@blossom/client";
import type { ServiceClients } from "@blossom/host";
import { createLogger } from "@blossom/runtime";
import Fastify, { type FastifyInstance } from "fastify";
import { createGateway, type GatewayOptions } from "./gateway.js";

/**
 * Test helpers for the gateway's suites (not used by the gateway itself): real upstream Fastify
 * servers and gateways in front of them, all closed by `close()`. The signing key and the
 * verifier that trusts it are `@blossom/testkit`'s `testSigningKey()`.
 */
export class GatewayHarness {
  readonly #servers: FastifyInstance[] = [];
  readonly #closers: Array<() => Promise<void>> = [];

  /** A real upstream service on a free port. */
  async upstream(setup: (app: FastifyInstance) => void): Promise<string> {
    const app = Fastify();
    setup(app);
    this.#servers.push(app);
    return app.listen({ port: 0, host: "127.0.0.1" });
  }

  /** A listening gateway in front of the given instances; returns its URL. */
  async gateway(
    instances: Record<string, string[]>,
    options: Partial<GatewayOptions> & Pick<GatewayOptions, "verifier">,
    timeoutMs = 2000,
  ): Promise<string> {
    const discovery = new StaticDiscovery(instances);
    const clients = new Map<string, ServiceClient>();
    const pool: ServiceClients = {
      get(service) {
        let client = clients.get(service);
        if (!client) {
          client = new ServiceClient({
            service,
            discovery,
            timeoutMs,
            retry: { maxAttempts: 2, initialDelayMs: 5 },
          });
          clients.set(service, client);
        }
        return client;
      },
    };
    const gateway = await createGateway({
      logger: createLogger({ service: "gateway", level: "silent" }),
      clients: pool,
      host: "127.0.0.1",
      port: 0,
      ...options,
    });
    const url = await gateway.listen();
    this.#closers.push(async () => {
      await gateway.stopAccepting();
      await Promise.all([...clients.values()].map((client) => client.close()));
    });
    return url;
  }

  async close(): Promise<void> {
    for (const close of this.#closers.splice(0).reverse()) await close();
    for (const server of this.#servers.splice(0)) await server.close();
  }
}
