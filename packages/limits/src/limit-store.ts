/**
 * The port: named counters in fixed windows, the mechanics behind rate limits and lockouts. A
 * counter starts its window at its first hit and disappears when the window ends; nothing ever
 * lives without an expiry. Two adapters implement it side by side: `MemoryLimitStore` (one
 * process) and `RedisLimitStore` (every replica shares the counts); one contract suite
 * (`limit-store.test.ts`) runs over both.
 */
export interface LimitStore {
  /** `"memory"` or `"redis"`, for logs and the ready table. */
  readonly kind: string;

  /**
   * Atomically, all or nothing: when every quota's counter is below its limit, adds one to each
   * (a counter that did not exist starts its window of `windowMs`) and answers the new counts,
   * in the quotas' order; otherwise changes nothing and answers how long until the last full
   * counter's window ends (the earliest moment the same take can succeed). Concurrent takes
   * never get more than `limit` hits through in one window.
   */
  take(quotas: readonly Quota[]): Promise<TakeResult>;

  /** Takes one back from each counter (a hit that turned out not to count), never below zero, keeping its window. */
  giveBack(keys: readonly string[]): Promise<void>;

  /**
   * Adds one to a counter with no limit and answers the count. A new counter lives `windowMs`;
   * with `sliding`, every hit sets its remaining life to `windowMs` again (a memory of "recent").
   */
  increment(key: string, windowMs: number, options?: { sliding?: boolean }): Promise<Counter>;

  /** Sets how long an existing counter still lives (e.g. a full window becomes a lock); no-op for an absent one. */
  expire(key: string, ttlMs: number): Promise<void>;

  /** Forgets the counters. */
  reset(keys: readonly string[]): Promise<void>;

  /** A counter's count now, without touching it; 0 for an absent (or expired) one. */
  count(key: string): Promise<number>;

  /** Releases the adapter's resources (timers, connections it opened). */
  close(): Promise<void>;
}

/** One counter and its limit, for `take`. */
export interface Quota {
  key: string;
  /** Hits allowed in one window (at least 1). */
  limit: number;
  /** Length of the window a new counter starts. */
  windowMs: number;
}

export type TakeResult =
  | { taken: true; counts: number[] }
  | {
      taken: false;
      /** Milliseconds until every full counter's window has ended (at least 1). */
      retryAfterMs: number;
      /** Indexes (in the quotas given) of the counters that were full. */
      full: number[];
    };

export interface Counter {
  count: number;
  /** Milliseconds until the counter's window ends. */
  remainingMs: number;
}

/** The quotas `take` was given, checked once for both adapters. */
export function checkQuotas(quotas: readonly Quota[]): void {
  for (const quota of quotas) {
    if (!Number.isInteger(quota.limit) || quota.limit < 1)
      throw new RangeError(`quota ${quota.key}: limit must be a positive integer`);
    if (!Number.isFinite(quota.windowMs) || quota.windowMs < 1)
      throw new RangeError(`quota ${quota.key}: windowMs must be at least 1`);
  }
  if (new Set(quotas.map((quota) => quota.key)).size !== quotas.length)
    throw new RangeError("take: the same counter twice");
}
