import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LimitStore } from "./limit-store.js";
import { MemoryLimitStore } from "./memory-limit-store.js";
import { RedisLimitStore } from "./redis-limit-store.js";

// One contract, two adapters. Memory always runs; Redis joins when BLOSSOM_TEST_ADAPTERS names
// redis, or nats (the distributed runs, where Redis runs beside NATS and PostgreSQL) — and then an
// unreachable Redis fails the suite instead of skipping it.
const ADAPTERS = (process.env.BLOSSOM_TEST_ADAPTERS ?? "").split(",").map((name) => name.trim());
const WITH_REDIS = ADAPTERS.includes("redis") || ADAPTERS.includes("nats");
const REDIS_URL = process.env.BLOSSOM_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** One adapter under test, and how to let time pass for it. */
interface Subject {
  store: LimitStore;
  /** The window the cases use: long enough for a few round trips, short enough to wait out. */
  windowMs: number;
  /** Lets `ms` pass (a hand-moved clock, or a real wait). */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

function contract(name: string, open: () => Promise<Subject>): void {
  describe(`LimitStore contract: ${name}`, () => {
    let subject: Subject;
    let store: LimitStore;
    let W: number;
    const quota = (key: string, limit: number) => ({ key, limit, windowMs: W });

    beforeAll(async () => {
      subject = await open();
      store = subject.store;
      W = subject.windowMs;
    });
    afterAll(() => subject?.close());

    it("lets `limit` hits through in a window, counting them, then refuses until the window ends", async () => {
      const key = randomUUID();
      for (let hit = 1; hit <= 3; hit++)
        expect(await store.take([quota(key, 3)])).toEqual({ taken: true, counts: [hit] });
      const refused = await store.take([quota(key, 3)]);
      expect(refused).toMatchObject({ taken: false, full: [0] });
      if (!refused.taken) {
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(W);
      }
      await subject.advance(W + 20);
      expect(await store.take([quota(key, 3)])).toEqual({ taken: true, counts: [1] });
    });

    it("takes all or nothing: one full counter leaves the others untouched", async () => {
      const [full, free] = [randomUUID(), randomUUID()];
      await store.take([quota(full, 1)]);
      const refused = await store.take([quota(free, 5), quota(full, 1)]);
      expect(refused).toMatchObject({ taken: false, full: [1] });
      expect(await store.take([quota(free, 5)])).toEqual({ taken: true, counts: [1] });
      expect(await store.take([quota(free, 5), quota(randomUUID(), 2)])).toEqual({
        taken: true,
        counts: [2, 1],
      });
    });

    it("answers, for several full counters, the wait until the last of them frees up", async () => {
      const [early, late] = [randomUUID(), randomUUID()];
      await store.take([{ key: early, limit: 1, windowMs: W }]);
      await store.take([{ key: late, limit: 1, windowMs: 3 * W }]);
      const refused = await store.take([quota(early, 1), { key: late, limit: 1, windowMs: 3 * W }]);
      expect(refused.taken).toBe(false);
      if (!refused.taken) {
        expect(refused.full).toEqual([0, 1]);
        expect(refused.retryAfterMs).toBeGreaterThan(2 * W);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(3 * W);
      }
    });

    it("never lets concurrent takes past the limit", async () => {
      const key = randomUUID();
      const results = await Promise.all(Array.from({ length: 20 }, () => store.take([quota(key, 5)])));
      expect(results.filter((result) => result.taken)).toHaveLength(5);
      const counts = results.flatMap((result) => (result.taken ? result.counts : [])).sort();
      expect(counts).toEqual([1, 2, 3, 4, 5]);
    });

    it("gives a hit back, never below zero, keeping the window", async () => {
      const key = randomUUID();
      await store.take([quota(key, 2)]);
      await store.take([quota(key, 2)]);
      await store.giveBack([key]);
      expect(await store.take([quota(key, 2)])).toEqual({ taken: true, counts: [2] });
      await store.giveBack([key]);
      await store.giveBack([key]);
      await store.giveBack([key]);
      expect(await store.take([quota(key, 2)])).toEqual({ taken: true, counts: [1] });
      await store.giveBack([randomUUID()]);
      // The window is still the first hit's: it ends W after it, not after the give-backs.
      await subject.advance(W + 20);
      await store.take([quota(key, 1)]);
      expect(await store.take([quota(key, 1)])).toMatchObject({ taken: false });
    });

    it("increments without a limit: a fixed window from the first hit, or a sliding one", async () => {
      const [fixed, sliding] = [randomUUID(), randomUUID()];
      expect((await store.increment(fixed, W)).count).toBe(1);
      expect((await store.increment(sliding, W, { sliding: true })).count).toBe(1);
      await subject.advance(W * 0.6);
      const second = await store.increment(fixed, W);
      expect(second.count).toBe(2);
      expect(second.remainingMs).toBeLessThanOrEqual(W * 0.4 + 5);
      expect((await store.increment(sliding, W, { sliding: true })).remainingMs).toBeGreaterThan(W * 0.8);
      await subject.advance(W * 0.6);
      expect((await store.increment(fixed, W)).count).toBe(1);
      expect((await store.increment(sliding, W, { sliding: true })).count).toBe(3);
    });

    it("expire sets how long a counter still lives (a full window becomes a shorter or longer lock); absent ones stay absent", async () => {
      const [shorter, longer, absent] = [randomUUID(), randomUUID(), randomUUID()];
      await store.take([{ key: shorter, limit: 1, windowMs: 10 * W }]);
      await store.take([quota(longer, 1)]);
      await store.expire(shorter, W);
      await store.expire(longer, 3 * W);
      await store.expire(absent, 10 * W);
      const refused = await store.take([{ key: longer, limit: 1, windowMs: W }]);
      expect(refused.taken).toBe(false);
      if (!refused.taken) expect(refused.retryAfterMs).toBeGreaterThan(2 * W);
      await subject.advance(W + 20);
      expect(await store.take([quota(shorter, 1)])).toEqual({ taken: true, counts: [1] });
      expect(await store.take([quota(longer, 1)])).toMatchObject({ taken: false });
      // Never created by expire: a first hit starts its own (short) window.
      expect(await store.take([quota(absent, 1)])).toEqual({ taken: true, counts: [1] });
      await subject.advance(W + 20);
      expect(await store.take([quota(absent, 1)])).toEqual({ taken: true, counts: [1] });
    });

    it("counts a counter without touching it: 0 when absent", async () => {
      const key = randomUUID();
      expect(await store.count(key)).toBe(0);
      await store.increment(key, W);
      await store.increment(key, W);
      expect(await store.count(key)).toBe(2);
      expect(await store.count(key)).toBe(2);
      await store.reset([key]);
      expect(await store.count(key)).toBe(0);
    });

    it("reset forgets counters", async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      await store.take([quota(a, 1), quota(b, 1)]);
      await store.reset([a, b, randomUUID()]);
      expect(await store.take([quota(a, 1), quota(b, 1)])).toEqual({ taken: true, counts: [1, 1] });
      await store.reset([]);
    });

    it("refuses malformed quotas", async () => {
      await expect(store.take([{ key: "x", limit: 0, windowMs: W }])).rejects.toThrow(/limit/);
      await expect(store.take([quota("x", 1), quota("x", 2)])).rejects.toThrow(/twice/);
    });
  });
}

contract("memory", async () => {
  let now = 1_000_000;
  const store = new MemoryLimitStore({ now: () => now, sweepIntervalMs: 0 });
  return {
    store,
    windowMs: 1000,
    async advance(ms) {
      now += ms;
    },
    close: () => store.close(),
  };
});

describe("MemoryLimitStore", () => {
  it("drops expired counters on its sweep, so that memory does not grow with one-off keys", async () => {
    let now = 0;
    const store = new MemoryLimitStore({ now: () => now, sweepIntervalMs: 0 });
    for (let i = 0; i < 100; i++) await store.increment(`k${i}`, 1000);
    expect(store.size).toBe(100);
    now += 1001;
    expect(store.size).toBe(0);
    await store.close();
  });
});

const PREFIX = `blossom-test:limits:${randomUUID()}:`;
let admin: Redis | undefined;

async function redisAdmin(): Promise<Redis> {
  if (!admin) {
    admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await admin.connect();
  }
  return admin;
}

if (WITH_REDIS) {
  contract("redis", async () => {
    const store = await RedisLimitStore.connect(REDIS_URL, { keyPrefix: `${PREFIX}contract:` });
    return {
      store,
      windowMs: 250,
      advance: (ms) => sleep(ms),
      close: () => store.close(),
    };
  });
}

describe.runIf(WITH_REDIS)("RedisLimitStore", () => {
  afterEach(async () => {
    // Leave nothing behind: every key of this run has the run's own prefix.
    const redis = await redisAdmin();
    const keys = await redis.keys(`${PREFIX}*`);
    if (keys.length > 0) await redis.del(...keys);
  });
  afterAll(async () => {
    await admin?.quit();
  });

  it("shares counts between two stores (two replicas) on one prefix, and keeps other prefixes apart", async () => {
    const prefix = `${PREFIX}${randomUUID()}:`;
    const [one, two] = [
      await RedisLimitStore.connect(REDIS_URL, { keyPrefix: prefix }),
      await RedisLimitStore.connect(REDIS_URL, { keyPrefix: prefix }),
    ];
    const other = await RedisLimitStore.connect(REDIS_URL, { keyPrefix: `${prefix}other:` });
    const quota = { key: "login:ann", limit: 3, windowMs: 60_000 };
    const taken = [];
    for (const store of [one, two, one, two]) taken.push(await store.take([quota]));
    expect(taken.map((result) => result.taken)).toEqual([true, true, true, false]);
    expect(await other.take([quota])).toEqual({ taken: true, counts: [1] });
    // Concurrent takes from both stores: one budget.
    const key = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) => (i % 2 ? one : two).take([{ key, limit: 4, windowMs: 60_000 }])),
    );
    expect(results.filter((result) => result.taken)).toHaveLength(4);
    await Promise.all([one.close(), two.close(), other.close()]);
  });

  it("never leaves a key without an expiry", async () => {
    const prefix = `${PREFIX}${randomUUID()}:`;
    const store = await RedisLimitStore.connect(REDIS_URL, { keyPrefix: prefix });
    await store.take([{ key: "a", limit: 2, windowMs: 60_000 }]);
    await store.increment("b", 60_000);
    await store.increment("c", 60_000, { sliding: true });
    await store.giveBack(["a", "d"]);
    const redis = await redisAdmin();
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.sort()).toEqual([`${prefix}a`, `${prefix}b`, `${prefix}c`]);
    for (const key of keys) expect(await redis.pttl(key)).toBeGreaterThan(0);
    await store.close();
  });

  it("fails to connect to an unreachable Redis with an error naming it, or, when not required, fails each command fast", async () => {
    await expect(RedisLimitStore.connect("redis://127.0.0.1:1", { keyPrefix: PREFIX })).rejects.toThrow(
      /cannot reach Redis/,
    );
    const store = await RedisLimitStore.connect("redis://127.0.0.1:1", {
      keyPrefix: PREFIX,
      required: false,
    });
    expect(store.connected).toBe(false);
    const started = performance.now();
    await expect(store.take([{ key: "k", limit: 1, windowMs: 1000 }])).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(1000);
    await store.close();
  });
});
