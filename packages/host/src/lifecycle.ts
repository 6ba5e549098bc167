import type { EventBus } from "@blossom/bus";
import type { Logger } from "@blossom/runtime";
import type { ServiceHost } from "./service-host.js";

/** Something the process runs that is not a service host (the gateway): listens and stops. */
export interface Runnable {
  readonly name: string;
  /** Where `GET /metrics` is served when not on the listening URL (the gateway's internal listener). */
  readonly metricsUrl?: string | undefined;
  listen(): Promise<string>;
  stopAccepting(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts services in the order that loses no event on the in-memory bus: every consumer is
 * subscribed before any outbox relay publishes. Returns each one's URL.
 */
export async function startAll(hosts: ServiceHost[], others: Runnable[] = []): Promise<Map<string, string>> {
  for (const host of hosts) await host.subscribe();
  const urls = new Map<string, string>();
  await Promise.all(
    [...hosts, ...others].map(async (runnable) => {
      urls.set(runnable.name, await runnable.listen());
    }),
  );
  return urls;
}

/**
 * Stops services without losing a request or an event: first the gateway and the listeners
 * stop accepting and drain in-flight requests; then every outbox is flushed, again and again,
 * until a whole round publishes nothing (a handled event may write new events); then relays
 * and consumers stop and databases close; the bus closes last.
 */
export async function stopAll(
  hosts: ServiceHost[],
  others: Runnable[],
  bus: EventBus,
  logger: Logger,
): Promise<void> {
  await Promise.all(others.map((runnable) => runnable.stopAccepting()));
  await Promise.all(hosts.map((host) => host.stopAccepting()));
  for (let round = 0; round < 20; round++) {
    const counts = await Promise.all(
      hosts.map((host) =>
        host.flushOutbox().catch((error: unknown) => {
          logger.warn(
            { err: error, service: host.name },
            "outbox not flushed: it will be published on next start",
          );
          return 0;
        }),
      ),
    );
    if (counts.every((count) => count === 0)) break;
  }
  await Promise.all(others.map((runnable) => runnable.close()));
  await Promise.all(hosts.map((host) => host.close()));
  await bus.close();
}
