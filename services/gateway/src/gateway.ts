import type { Runnable, ServiceClients } from "@blossom/host";
import { createServer, type Logger } from "@blossom/runtime";
import { registerProxy } from "./proxy.js";
import { registerPlatformReadiness } from "./readiness.js";

export interface GatewayOptions {
  logger: Logger;
  clients: ServiceClients;
  host: string;
  port: number;
  bodyLimit?: number;
  /** Wait between failing readiness and closing the listener, so load balancers stop sending. */
  drainDelayMs?: number;
}

/**
 * The front door: one port for every public route. Stages, in order: request id and
 * correlation id (server factory) → proxy with timeout/retry/breaker → access log. Issue 4 adds
 * security headers, rate limiting and authentication between the first two.
 */
export async function createGateway(options: GatewayOptions): Promise<Runnable & { readonly url: string }> {
  // The gateway's own readiness is replaced by the platform's: registered before the factory's.
  const { app, health } = createServer({
    service: "gateway",
    logger: options.logger,
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    skipReadiness: true,
  });
  registerPlatformReadiness(app, options.clients, health);
  registerProxy(app, options.clients);
  await app.ready();
  let url: string | undefined;
  return {
    name: "gateway",
    get url() {
      if (!url) throw new Error("gateway is not listening");
      return url;
    },
    async listen() {
      url = await app.listen({ host: options.host, port: options.port });
      return url;
    },
    async stopAccepting() {
      health.startDraining();
      const delay = options.drainDelayMs ?? 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      await app.close();
    },

    async close() {},
  };
}
