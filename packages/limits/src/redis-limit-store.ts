import type { Redis } from "ioredis";
import { type Counter, checkQuotas, type LimitStore, type Quota, type TakeResult } from "./limit-store.js";

// Each operation is one Lua script: Redis runs it atomically, so concurrent replicas never both
// see "below the limit" for the last hit, and a counter is never left without an expiry (INCR,
// then PEXPIRE when the counter is new or somehow lost its TTL, in the same script).

/** KEYS: the counters; ARGV: limit and window (ms) of each, in order. */
const TAKE = `
local wait = 0
local full = {}
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[2 * i - 1]) then
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then
      ttl = tonumber(ARGV[2 * i])
      redis.call('PEXPIRE', key, ttl)
    end
    if ttl > wait then wait = ttl end
    full[#full + 1] = i - 1
  end
end
if #full > 0 then return {0, wait, full} end
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ARGV[2 * i]) end
end
return {1, 0, counts}
`;

const GIVE_BACK = `
for _, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count > 0 then redis.call('DECR', key) end
end
return 0
`;

/** KEYS[1]: the counter; ARGV: window (ms), and "1" for a sliding window. */
const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
if ARGV[2] == '1' or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
`;

interface LimitCommands {
  blossomLimitsTake(keys: number, ...args: Array<string | number>): Promise<[number, number, number[]]>;
  blossomLimitsGiveBack(keys: number, ...args: string[]): Promise<number>;
  blossomLimitsIncrement(key: string, windowMs: number, sliding: string): Promise<[number, number]>;
}

export interface RedisLimitStoreOptions {
  /** A connected client. The store defines its scripts on it, and closes it only if it opened it. */
  redis: Redis;
  /** Prepended to every key, so that several users of one Redis (or test runs) never meet. */
  keyPrefix: string;
}

export interface RedisConnectOptions {
  keyPrefix: string;
  /**
   * Whether an unreachable Redis at start is an error (default true: the connection is dropped
   * and `connect` rejects). False: the store is returned all the same, its commands fail until
   * the client, reconnecting in the background, reaches Redis (see `connected`).
   */
  required?: boolean;
  /** Errors of the connection after it was established (it reconnects by itself). */
  onError?: (error: Error) => void;
  /** How long one command may take before it fails. Default 1000 ms. */
  commandTimeoutMs?: number;
}

/**
 * The shared adapter: every replica pointed at one Redis counts against the same budgets. A
 * standalone Redis (or a primary): a multi-key take touches keys that Redis Cluster would place in
 * different slots.
 */
export class RedisLimitStore implements LimitStore {
  readonly kind = "redis";
  readonly #redis: Redis;
  readonly #commands: LimitCommands;
  readonly #prefix: string;
  #owned = false;

  constructor(options: RedisLimitStoreOptions) {
    this.#redis = options.redis;
    this.#prefix = options.keyPrefix;
    this.#redis.defineCommand("blossomLimitsTake", { lua: TAKE });
    this.#redis.defineCommand("blossomLimitsGiveBack", { lua: GIVE_BACK });
    this.#redis.defineCommand("blossomLimitsIncrement", { lua: INCREMENT, numberOfKeys: 1 });
    this.#commands = this.#redis as unknown as LimitCommands;
  }

  /**
   * Opens a connection of its own (closed with the store). Commands fail fast while Redis is
   * unreachable (no offline queue, one retry, a command timeout): the caller decides what a
   * failure means. An unreachable Redis at start is an error, unless `required` is false.
   */
  static async connect(url: string, options: RedisConnectOptions): Promise<RedisLimitStore> {
    // Imported here, not at the top: the package's other stores must not load the Redis client.
    const { Redis } = await import("ioredis");
    const redis = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: options.commandTimeoutMs ?? 1000,
    });
    redis.on("error", (error: Error) => options.onError?.(error));
    try {
      await redis.connect();
    } catch (error) {
      if (options.required ?? true) {
        redis.disconnect();
        throw new Error(`cannot reach Redis for limits: ${(error as Error).message}`);
      }
    }
    const store = new RedisLimitStore({ redis, keyPrefix: options.keyPrefix });
    store.#owned = true;
    return store;
  }

  /** Whether the client is connected (and ready for commands) now. */
  get connected(): boolean {
    return this.#redis.status === "ready";
  }

  async take(quotas: readonly Quota[]): Promise<TakeResult> {
    checkQuotas(quotas);
    if (quotas.length === 0) return { taken: true, counts: [] };
    const args = quotas.flatMap((quota) => [quota.limit, Math.ceil(quota.windowMs)]);
    const [taken, wait, values] = await this.#commands.blossomLimitsTake(
      quotas.length,
      ...quotas.map((quota) => this.#key(quota.key)),
      ...args,
    );
    if (taken === 1) return { taken: true, counts: values.map(Number) };
    return { taken: false, retryAfterMs: Math.max(1, Number(wait)), full: values.map(Number) };
  }

  async giveBack(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.#commands.blossomLimitsGiveBack(keys.length, ...keys.map((key) => this.#key(key)));
  }

  async increment(key: string, windowMs: number, options: { sliding?: boolean } = {}): Promise<Counter> {
    const [count, ttl] = await this.#commands.blossomLimitsIncrement(
      this.#key(key),
      Math.ceil(windowMs),
      options.sliding ? "1" : "0",
    );
    return { count: Number(count), remainingMs: Math.max(0, Number(ttl)) };
  }

  async expire(key: string, ttlMs: number): Promise<void> {
    await this.#redis.pexpire(this.#key(key), Math.max(1, Math.ceil(ttlMs)));
  }

  async reset(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.#redis.del(...keys.map((key) => this.#key(key)));
  }

  async count(key: string): Promise<number> {
    return Number((await this.#redis.get(this.#key(key))) ?? 0);
  }

  async close(): Promise<void> {
    if (!this.#owned) return;
    const redis = this.#redis;
    await redis.quit().catch(() => redis.disconnect());
  }

  #key(key: string): string {
    return `${this.#prefix}${key}`;
  }
}
