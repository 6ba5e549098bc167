import { FailoverLimitStore, type LimitStore, MemoryLimitStore, RedisLimitStore } from "@blossom/limits";
import type { Logger } from "@blossom/runtime";

/** Prefix of the users service's counters in a shared Redis (the gateway's are `blossom:gateway:rate-limit:`). */
export const LIMITS_KEY_PREFIX = "blossom:users:limits:";

/**
 * Where the login and sign-up counters live: this process's memory, or the Redis at `redisUrl`
 * shared by every replica. While Redis cannot be reached — at start, or later — the counters live
 * in this process's memory, and Redis is tried again every 5 s (the client reconnects in the
 * background): the limits keep holding, per replica (a client gets at most one budget per
 * replica), and nobody is refused because Redis is down. Neither fail-open (the gateway's choice:
 * here a Redis outage would lift the only per-account limit there is) nor fail-closed (a Redis
 * outage would stop every login). Unlike the gateway, an unreachable Redis at start does not stop
 * the start: sign-in is worth more than shared counting; the outage is logged at error level.
 */
export async function openLimitCounters(redisUrl: string | undefined, logger: Logger): Promise<LimitStore> {
  const memory = new MemoryLimitStore();
  if (!redisUrl) return memory;
  const shared = await RedisLimitStore.connect(redisUrl, {
    keyPrefix: LIMITS_KEY_PREFIX,
    required: false,
    onError: (error) => logger.debug({ err: error }, "limits: Redis connection error"),
  });
  if (!shared.connected)
    logger.error(
      "limits: cannot reach Redis at REDIS_URL; login and sign-up limits count in this replica's memory until it answers",
    );
  return new FailoverLimitStore(shared, memory, {
    startDegraded: !shared.connected,
    onFailover: (error) =>
      logger.error(
        { err: error },
        "limits: Redis failed; login and sign-up limits count in this replica's memory until it answers again",
      ),
    onRecovery: () => logger.warn("limits: Redis answers again; login and sign-up limits are shared again"),
  });
}
