import { type Counter, checkQuotas, type LimitStore, type Quota, type TakeResult } from "./limit-store.js";

export interface MemoryLimitStoreOptions {
  /** The clock (milliseconds); tests pass one they move by hand. Default `Date.now`. */
  now?: () => number;
  /** How often expired counters are dropped (they are also ignored when read). Default 60 s; 0 = never. */
  sweepIntervalMs?: number;
}

interface Entry {
  count: number;
  expiresAt: number;
}

/**
 * The in-process adapter: counters in a map, each operation synchronous (so atomic). Each
 * process counts on its own: with several replicas, a client gets each replica's budget.
 */
export class MemoryLimitStore implements LimitStore {
  readonly kind = "memory";
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #sweep: NodeJS.Timeout | undefined;

  constructor(options: MemoryLimitStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    const every = options.sweepIntervalMs ?? 60_000;
    if (every > 0) {
      this.#sweep = setInterval(() => this.#dropExpired(), every);
      this.#sweep.unref();
    }
  }

  /** Live counters (expired ones not yet swept are not counted). */
  get size(): number {
    const now = this.#now();
    let live = 0;
    for (const entry of this.#entries.values()) if (entry.expiresAt > now) live++;
    return live;
  }

  async take(quotas: readonly Quota[]): Promise<TakeResult> {
    checkQuotas(quotas);
    const now = this.#now();
    const full: number[] = [];
    let retryAfterMs = 0;
    quotas.forEach((quota, index) => {
      const entry = this.#live(quota.key, now);
      if (entry && entry.count >= quota.limit) {
        full.push(index);
        retryAfterMs = Math.max(retryAfterMs, entry.expiresAt - now);
      }
    });
    if (full.length > 0) return { taken: false, retryAfterMs: Math.max(1, retryAfterMs), full };
    const counts = quotas.map((quota) => this.#hit(quota.key, quota.windowMs, now, false).count);
    return { taken: true, counts };
  }

  async giveBack(keys: readonly string[]): Promise<void> {
    const now = this.#now();
    for (const key of keys) {
      const entry = this.#live(key, now);
      if (entry && entry.count > 0) entry.count--;
    }
  }

  async increment(key: string, windowMs: number, options: { sliding?: boolean } = {}): Promise<Counter> {
    const now = this.#now();
    const entry = this.#hit(key, windowMs, now, options.sliding ?? false);
    return { count: entry.count, remainingMs: entry.expiresAt - now };
  }

  async expire(key: string, ttlMs: number): Promise<void> {
    const now = this.#now();
    const entry = this.#live(key, now);
    if (entry) entry.expiresAt = now + Math.max(1, ttlMs);
  }

  async reset(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.#entries.delete(key);
  }

  async count(key: string): Promise<number> {
    return this.#live(key, this.#now())?.count ?? 0;
  }

  async close(): Promise<void> {
    if (this.#sweep) clearInterval(this.#sweep);
    this.#entries.clear();
  }

  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > now) return entry;
    this.#entries.delete(key);
    return undefined;
  }

  #hit(key: string, windowMs: number, now: number, sliding: boolean): Entry {
    const entry = this.#live(key, now);
    if (!entry) {
      const created = { count: 1, expiresAt: now + windowMs };
      this.#entries.set(key, created);
      return created;
    }
    entry.count++;
    if (sliding) entry.expiresAt = now + windowMs;
    return entry;
  }

  #dropExpired(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
  }
}
