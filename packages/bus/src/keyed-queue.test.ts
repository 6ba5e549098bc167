import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { KeyedQueue } from "./keyed-queue.js";

describe("KeyedQueue", () => {
  it("runs tasks of one key one at a time, in submission order", async () => {
    const queue = new KeyedQueue(4);
    const log: string[] = [];
    let active = 0;
    let maxActive = 0;
    const runs = [30, 5, 15, 0].map((delay, index) =>
      queue.run("k", async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        log.push(`start ${index}`);
        await sleep(delay);
        log.push(`end ${index}`);
        active--;
      }),
    );
    await Promise.all(runs);
    expect(maxActive).toBe(1);
    expect(log).toEqual(["start 0", "end 0", "start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]);
  });

  it("runs different keys concurrently, up to the limit", async () => {
    const queue = new KeyedQueue(3);
    let active = 0;
    let maxActive = 0;
    const runs = Array.from({ length: 12 }, (_, index) =>
      queue.run(`k${index % 6}`, async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(5);
        active--;
      }),
    );
    await Promise.all(runs);
    expect(maxActive).toBe(3);
  });

  it("keeps per-key order under concurrency", async () => {
    const queue = new KeyedQueue(5);
    const seen = new Map<string, number[]>();
    const runs: Promise<void>[] = [];
    for (let n = 0; n < 100; n++) {
      const key = `k${n % 7}`;
      runs.push(
        queue.run(key, async () => {
          await sleep((n * 7) % 4);
          seen.set(key, [...(seen.get(key) ?? []), n]);
        }),
      );
    }
    await Promise.all(runs);
    for (const numbers of seen.values()) {
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    }
    expect([...seen.values()].flat()).toHaveLength(100);
  });

  it("settles each run with its task's outcome and goes on after a failure", async () => {
    const queue = new KeyedQueue(1);
    const failing = queue.run("k", () => {
      throw new Error("boom");
    });
    const next = queue.run("k", async () => 42);
    await expect(failing).rejects.toThrow("boom");
    await expect(next).resolves.toBe(42);
    expect(queue.size).toBe(0);
  });

  it("drain waits for every task, including ones submitted meanwhile", async () => {
    const queue = new KeyedQueue(2);
    const done: number[] = [];
    void queue.run("a", async () => {
      await sleep(10);
      done.push(1);
      void queue.run("a", async () => {
        await sleep(10);
        done.push(2);
      });
    });
    await queue.drain();
    expect(done).toEqual([1, 2]);
    expect(queue.size).toBe(0);
    await queue.drain(); // idle: resolves at once
  });

  it("whenBelow resolves once the backlog shrinks under the limit", async () => {
    const queue = new KeyedQueue(1);
    for (let n = 0; n < 4; n++) void queue.run(`k${n}`, () => sleep(5));
    expect(queue.size).toBe(4);
    await queue.whenBelow(2);
    expect(queue.size).toBeLessThan(2);
    await queue.drain();
  });

  it("raising the concurrency starts waiting tasks at once", async () => {
    const queue = new KeyedQueue(1);
    let release = (): void => {};
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    void queue.run("a", () => blocked);
    const second = queue.run("b", async () => "b ran");
    await sleep(5);
    expect(queue.running).toBe(1);
    queue.concurrency = 2;
    await expect(second).resolves.toBe("b ran");
    release();
    await queue.drain();
  });

  it("rejects a concurrency that is not a positive integer", () => {
    expect(() => new KeyedQueue(0)).toThrow(RangeError);
    expect(() => new KeyedQueue(1.5)).toThrow(RangeError);
  });
});
