import { describe, expect, it } from "vitest";
import { HashQueue, hashConcurrency } from "./hash-queue.js";

/** A hash that finishes when the test says so. */
function pending(): { promise: Promise<string>; finish: () => void } {
  let finish = () => {};
  const promise = new Promise<string>((resolve) => {
    finish = () => resolve("hash");
  });
  return { promise, finish };
}

describe("HashQueue", () => {
  it("runs `concurrency` hashes at once, queues up to `maxWaiting` more, and refuses the rest at once", async () => {
    const queue = new HashQueue({ concurrency: 2, maxWaiting: 1, budgetMs: 60_000 });
    const hashes = [pending(), pending(), pending()];
    let started = 0;
    const runs = hashes.map((hash) => {
      const permit = queue.admit();
      if (!permit) throw new Error("refused too early");
      return permit.run(() => {
        started++;
        return hash.promise;
      });
    });
    expect(queue.admit()).toBeUndefined();
    await Promise.resolve();
    expect(started).toBe(2);
    hashes[0]?.finish();
    await runs[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toBe(3);
    // A slot freed: one more may queue.
    const next = queue.admit();
    expect(next).toBeDefined();
    next?.release();
    for (const hash of hashes) hash.finish();
    await Promise.all(runs);
    expect(queue.outstanding).toBe(0);
  });

  it("gives an admission back when the request stops before hashing, once", () => {
    const queue = new HashQueue({ concurrency: 1, maxWaiting: 0, budgetMs: 60_000 });
    const permit = queue.admit();
    expect(queue.admit()).toBeUndefined();
    permit?.release();
    permit?.release();
    expect(queue.outstanding).toBe(0);
    expect(queue.admit()).toBeDefined();
  });

  it("refuses a hash that would wait past the budget, and says when to come back", async () => {
    let now = 0;
    const queue = new HashQueue({ concurrency: 1, maxWaiting: 100, budgetMs: 1000, now: () => now });
    // One hash of 400 ms teaches the queue what a hash costs.
    await queue.admit()?.run(async () => {
      now += 400;
    });
    const waiting = [queue.admit(), queue.admit()];
    expect(waiting.every((permit) => permit !== undefined)).toBe(true);
    // A third would finish after 1200 ms: over the budget, refused although the queue has room.
    expect(queue.admit()).toBeUndefined();
    expect(queue.retryAfterSeconds()).toBe(1);
    for (const permit of waiting) permit?.release();
  });

  it("a hash that fails frees its slot and its admission", async () => {
    const queue = new HashQueue({ concurrency: 1, maxWaiting: 0, budgetMs: 60_000 });
    await expect(queue.admit()?.run(() => Promise.reject(new Error("scrypt failed")))).rejects.toThrow(
      "scrypt failed",
    );
    expect(queue.outstanding).toBe(0);
    expect(await queue.admit()?.run(async () => "ok")).toBe("ok");
  });

  it("is sized to the machine: libuv's pool, at most the CPUs, at least one", () => {
    expect(hashConcurrency(4, 2)).toBe(2);
    expect(hashConcurrency(4, 16)).toBe(4);
    expect(hashConcurrency(1, 0)).toBe(1);
  });
});
