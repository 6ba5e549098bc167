import { type KV, Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";

/** What each instance puts under `<service>.<instanceId>` in the bucket. */
export interface InstanceRecord {
  service: string;
  /** Base URL the instance serves on, e.g. `http://127.0.0.1:40123`. */
  url: string;
  pid: number;
  /** ISO time the instance registered. */
  started: string;
}

export interface InstanceBucketOptions {
  /** `nats://host:port` (a comma-separated list for a cluster). */
  url: string;
  /** Namespaces the bucket like the bus's subjects and streams. Default "blossom". */
  prefix?: string;
  /**
   * How long an entry lives without a heartbeat. Default 10 s. It is the bucket's `max_age`, so it
   * is fixed when the bucket is first created; a later open with another value gets (and its
   * `ttlMs` reports) the bucket's own.
   */
  ttlMs?: number;
  /** Connection name, shown by the server's monitoring. */
  name?: string;
}

export const DEFAULT_INSTANCE_TTL_MS = 10_000;

/** The bucket of a prefix: `blossom` → `blossom_instances` (bucket names allow `[A-Za-z0-9_-]`). */
export function instanceBucketName(prefix: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(prefix)) {
    throw new TypeError(
      `invalid instance bucket prefix ${JSON.stringify(prefix)} (letters, digits, _ and -)`,
    );
  }
  return `${prefix}_instances`;
}

/**
 * The NATS JetStream key-value bucket where live instances announce themselves: one key per
 * instance (`<service>.<instanceId>`), history 1, entries expire `ttlMs` after their last put.
 * Shared by `NatsKvDiscovery` (reads) and `NatsKvRegistrar` (writes) of one process.
 *
 * It opens its own connection rather than borrowing the bus's: the bus keeps its connection
 * private, and a connection is cheap; this one also outlives the bus during shutdown, so an
 * instance can deregister before it stops consuming.
 */
export class InstanceBucket {
  private constructor(
    readonly kv: KV,
    readonly ttlMs: number,
    readonly name: string,
    readonly connection: NatsConnection,
  ) {}

  /** Connects and creates the bucket if missing. Rejects if NATS or JetStream is unreachable. */
  static async open(options: InstanceBucketOptions): Promise<InstanceBucket> {
    const ttlMs = options.ttlMs ?? DEFAULT_INSTANCE_TTL_MS;
    if (!(Number.isInteger(ttlMs) && ttlMs >= 100)) {
      throw new RangeError(`InstanceBucket: ttlMs must be an integer ≥ 100, got ${ttlMs}`);
    }
    const name = instanceBucketName(options.prefix ?? "blossom");
    const connection = await connect({
      servers: options.url.split(","),
      name: options.name ?? "blossom-discovery",
      // Like the bus: ride out broker restarts; heartbeats fail meanwhile and resume after.
      maxReconnectAttempts: -1,
    });
    try {
      const kv = await new Kvm(connection).create(name, {
        history: 1,
        ttl: ttlMs,
        description: "Blossom: live service instances (heartbeat-refreshed)",
      });
      // An existing bucket keeps the TTL it was created with: heartbeats must follow that one.
      const { ttl } = await kv.status();
      return new InstanceBucket(kv, ttl > 0 ? ttl : ttlMs, name, connection);
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  /** Deletes the bucket with every entry. For tests and throwaway environments only. */
  async destroy(): Promise<void> {
    await this.kv.destroy();
  }

  /** Closes the connection (flushing pending puts and deletes first). Idempotent. */
  async close(): Promise<void> {
    if (!this.connection.isClosed()) await this.connection.drain().catch(() => this.connection.close());
  }
}
