import type { ServiceClients } from "@blossom/host";
import type { App, HealthRegistry } from "@blossom/runtime";
import { UPSTREAM_SERVICES } from "./routing-table.js";

/**
 * The platform's readiness as the front door sees it: ready when every service it routes to
 * answers its own readiness probe. Lists every service's state, so one curl tells an operator
 * what is down.
 */
export function registerPlatformReadiness(app: App, clients: ServiceClients, health: HealthRegistry): void {
  app.get("/health/ready", async (request, reply) => {
    // A stopping gateway is not ready, whatever the services say: load balancers must move on.
    if (health.draining)
      return reply.code(503).send({ service: "gateway", status: "draining", services: {} });
    // `?scope=gateway`: this replica alone, for its load balancer (a Kubernetes readiness probe).
    // One service with no ready instance must not take every gateway replica out of rotation:
    // the routes of the other services would go down with it.
    if ((request.query as { scope?: unknown } | undefined)?.scope === "gateway")
      return { service: "gateway", status: "ready", services: {} };

    const entries = await Promise.all(
      UPSTREAM_SERVICES.map(async (service) => {
        try {
          const answer = await clients
            .get(service)
            .request({ method: "GET", path: "/health/ready", timeoutMs: 1500 });
          return [service, { state: "ready", detail: answer.body }] as const;
        } catch (error) {
          const detail =
            (error as { body?: unknown }).body ?? (error instanceof Error ? error.message : String(error));
          return [service, { state: "not-ready", detail }] as const;
        }
      }),
    );
    const ready = entries.every(([, entry]) => entry.state === "ready");
    reply.code(ready ? 200 : 503);
    return {
      service: "gateway",
      status: ready ? "ready" : "not-ready",
      services: Object.fromEntries(entries),
    };
  });
}
