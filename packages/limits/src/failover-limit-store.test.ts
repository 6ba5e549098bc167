import { describe, expect, it } from "vitest";
import { FailoverLimitStore } from "./failover-limit-store.js";
import type { LimitStore, Quota } from "./limit-store.js";
import { MemoryLimitStore } from "./memory-limit-store.js";

/** A primary that works or fails on demand, counting its calls. */
class Flaky implements LimitStore {
  readonly kind = "flaky";
  failing = false;
  calls = 0;
  constructor(readonly inner: LimitStore) {}
  async #call<T>(run: () => Promise<T>): Promise<T> {
    this.calls++;
    if (this.failing) throw new Error("connection is closed");
    return run();
  }
  take(quotas: readonly Quota[]) {
    return this.#call(() => this.inner.take(quotas));
  }
  giveBack(keys: readonly string[]) {
    return this.#call(() => this.inner.giveBack(keys));
  }
  increment(key: string, windowMs: number, options?: { sliding?: boolean }) {
    return this.#call(() => this.inner.increment(key, windowMs, options));
  }
  expire(key: string, ttlMs: number) {
    return this.#call(() => this.inner.expire(key, ttlMs));
  }
  reset(keys: readonly string[]) {
    return this.#call(() => this.inner.reset(keys));
  }
  count(key: string) {
    return this.#call(() => this.inner.count(key));
  }
  close() {
    return this.inner.close();
  }
}

describe("FailoverLimitStore", () => {
  it("counts in the fallback while the primary fails (limits still hold, per replica), and goes back to it after a pause", async () => {
    let now = 0;
    const primary = new Flaky(new MemoryLimitStore({ now: () => now, sweepIntervalMs: 0 }));
    const fallback = new MemoryLimitStore({ now: () => now, sweepIntervalMs: 0 });
    const events: string[] = [];
    const store = new FailoverLimitStore(primary, fallback, {
      now: () => now,
      retryAfterMs: 5000,
      onFailover: (error) => events.push(`failover: ${(error as Error).message}`),
      onRecovery: () => events.push("recovered"),
    });
    const quota = { key: "k", limit: 2, windowMs: 60_000 };
    expect(await store.take([quota])).toEqual({ taken: true, counts: [1] });

    primary.failing = true;
    expect(await store.take([quota])).toEqual({ taken: true, counts: [1] });
    expect(store.degraded).toBe(true);
    const callsWhileDown = primary.calls;
    expect(await store.take([quota])).toEqual({ taken: true, counts: [2] });
    // The fallback enforces the limit: not fail-open.
    expect(await store.take([quota])).toMatchObject({ taken: false });
    // Within the pause the primary is not tried at all (no timeout per request while it is down).
    expect(primary.calls).toBe(callsWhileDown);
    expect(events).toEqual(["failover: connection is closed"]);

    now += 5001;
    primary.failing = false;
    expect(await store.take([quota])).toEqual({ taken: true, counts: [2] });
    expect(store.degraded).toBe(false);
    expect(events).toEqual(["failover: connection is closed", "recovered"]);
    await store.close();
  });

  it("can start on the fallback, the primary known to be down, and still go back to it", async () => {
    let now = 0;
    const primary = new Flaky(new MemoryLimitStore({ now: () => now, sweepIntervalMs: 0 }));
    const events: string[] = [];
    const store = new FailoverLimitStore(
      primary,
      new MemoryLimitStore({ now: () => now, sweepIntervalMs: 0 }),
      {
        now: () => now,
        startDegraded: true,
        onFailover: () => events.push("failover"),
        onRecovery: () => events.push("recovered"),
      },
    );
    expect(store.degraded).toBe(true);
    await store.increment("k", 60_000);
    expect(primary.calls).toBe(0);
    now += 5001;
    expect((await store.increment("k", 60_000)).count).toBe(1);
    expect(events).toEqual(["recovered"]);
    await store.close();
  });
});
