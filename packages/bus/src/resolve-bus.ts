import type { EventBus } from "./event-bus.js";
import { MemoryBus } from "./memory/memory-bus.js";
import type { BusLogger } from "./nats/bus-logger.js";

export interface ResolveBusOptions {
  /** NATS server(s); without it the bus is the embedded in-memory one. */
  natsUrl?: string;
  /** NATS subject and stream prefix (see `NatsBusOptions.prefix`). */
  prefix?: string;
  /** NATS connection name. */
  name?: string;
  logger?: BusLogger;
  /** NATS: how long a delivery may stay unacknowledged before JetStream redelivers it. */
  ackWaitMs?: number;
}

/**
 * Picks the bus adapter from configuration: NATS JetStream when `natsUrl` is set, else the
 * in-memory bus. The NATS adapter is imported on demand, so the embedded default never loads
 * the NATS client. Rejects if NATS is configured but unreachable.
 */
export async function resolveBus(options: ResolveBusOptions = {}): Promise<EventBus> {
  if (!options.natsUrl) return new MemoryBus();
  const { NatsBus } = await import("./nats/nats-bus.js");
  return NatsBus.connect({
    url: options.natsUrl,
    prefix: options.prefix,
    name: options.name,
    logger: options.logger,
    ackWaitMs: options.ackWaitMs,
  });
}
