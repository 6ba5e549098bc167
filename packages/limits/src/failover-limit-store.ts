import type { Counter, LimitStore, Quota, TakeResult } from "./limit-store.js";

export interface FailoverLimitStoreOptions {
  /** Called when the primary fails and the fallback takes over (once per outage, not per call). */
  onFailover?: (error: unknown) => void;
  /** Called when the primary answers again after an outage. */
  onRecovery?: () => void;
  /** After a failure, how long calls skip the primary before trying it again. Default 5 s. */
  retryAfterMs?: number;
  /** Start on the fallback, the primary known to be down (its outage already reported by the caller). */
  startDegraded?: boolean;
  now?: () => number;
}

/**
 * Neither fail-open nor fail-closed: while the primary (Redis) fails, the fallback (memory)
 * counts instead, so every replica still enforces the limits on its own — a client gets at most
 * one budget per replica instead of one in all — and nobody is refused because a counter store
 * is down. After a failure the primary is left alone for `retryAfterMs` (no per-request timeout
 * while it is down), then tried again. Counts do not move between the two: a lock set in one is
 * not seen in the other, so a switch can shorten a lock already running.
 */
export class FailoverLimitStore implements LimitStore {
  readonly #primary: LimitStore;
  readonly #fallback: LimitStore;
  readonly #options: FailoverLimitStoreOptions;
  readonly #now: () => number;
  #downUntil = 0;
  #down = false;

  constructor(primary: LimitStore, fallback: LimitStore, options: FailoverLimitStoreOptions = {}) {
    this.#primary = primary;
    this.#fallback = fallback;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    if (options.startDegraded) {
      this.#down = true;
      this.#downUntil = this.#now() + (options.retryAfterMs ?? 5000);
    }
  }

  get kind(): string {
    return `${this.#primary.kind} (falls back to ${this.#fallback.kind})`;
  }

  /** Whether calls currently go to the fallback. */
  get degraded(): boolean {
    return this.#down;
  }

  take(quotas: readonly Quota[]): Promise<TakeResult> {
    return this.#run((store) => store.take(quotas));
  }

  giveBack(keys: readonly string[]): Promise<void> {
    return this.#run((store) => store.giveBack(keys));
  }

  increment(key: string, windowMs: number, options?: { sliding?: boolean }): Promise<Counter> {
    return this.#run((store) => store.increment(key, windowMs, options));
  }

  expire(key: string, ttlMs: number): Promise<void> {
    return this.#run((store) => store.expire(key, ttlMs));
  }

  reset(keys: readonly string[]): Promise<void> {
    return this.#run((store) => store.reset(keys));
  }

  count(key: string): Promise<number> {
    return this.#run((store) => store.count(key));
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#primary.close(), this.#fallback.close()]);
  }

  async #run<T>(operation: (store: LimitStore) => Promise<T>): Promise<T> {
    if (this.#down && this.#now() < this.#downUntil) return operation(this.#fallback);
    try {
      const result = await operation(this.#primary);
      if (this.#down) {
        this.#down = false;
        this.#options.onRecovery?.();
      }
      return result;
    } catch (error) {
      if (!this.#down) this.#options.onFailover?.(error);
      this.#down = true;
      this.#downUntil = this.#now() + (this.#options.retryAfterMs ?? 5000);
      return operation(this.#fallback);
    }
  }
}
