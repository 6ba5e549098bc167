import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { QueueTimeoutError, UpstreamQueue } from "./upstream-queue.js";

type Outcome = { state: "pending" } | { state: "resolved" } | { state: "rejected"; error: unknown };

/** The outcome of an `acquire` so far (undefined: a place was given at once). */
function track(acquired: Promise<void> | undefined): { current: Outcome } {
  const outcome: { current: Outcome } = { current: { state: "pending" } };
  if (acquired === undefined) {
    outcome.current = { state: "resolved" };
    return outcome;
  }
  acquired.then(
    () => {
      outcome.current = { state: "resolved" };
    },
    (error: unknown) => {
      outcome.current = { state: "rejected", error };
    },
  );
  return outcome;
}

/** Lets the promise callbacks of settled waiters run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

// The queue's clock and its timers are the same fake clock: `at(ms)` moves both to `ms` after
// the test's start, running the timers due on the way.
let start = 0;
const clock = () => Date.now() - start;
async function at(ms: number): Promise<void> {
  const ahead = ms - clock();
  if (ahead < 0) throw new Error(`the clock is already at ${clock()} ms`);
  await vi.advanceTimersByTimeAsync(ahead);
}

function queue(intervalMs = 100, targetMs = 30): UpstreamQueue {
  return new UpstreamQueue({ intervalMs, targetMs, now: clock });
}

beforeEach(() => {
  vi.useFakeTimers();
  start = Date.now();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("UpstreamQueue", () => {
  it("gives a place at once while one is free, and queues past the capacity", () => {
    const q = queue();
    expect(q.acquire(2)).toBeUndefined();
    expect(q.acquire(2)).toBeUndefined();
    expect(q.running).toBe(2);
    expect(q.waiting).toBe(0);

    const third = q.acquire(2);
    expect(third).toBeInstanceOf(Promise);
    expect(q.running).toBe(2);
    expect(q.waiting).toBe(1);
    third?.catch(() => {});
  });

  it("does not let a newcomer overtake a waiter even when a place is free for it", async () => {
    const q = queue();
    q.acquire(1);
    const waiter = track(q.acquire(1));
    // The capacity grew (another instance came back), but somebody waits: the newcomer queues.
    const newcomer = q.acquire(2);
    expect(newcomer).toBeInstanceOf(Promise);
    expect(q.waiting).toBe(2);

    q.release(2);
    await flush();
    // The release admits both, oldest first.
    expect(waiter.current.state).toBe("resolved");
    await expect(newcomer).resolves.toBeUndefined();
    expect(q.running).toBe(2);
    expect(q.waiting).toBe(0);
  });

  it("hands each released place to the oldest waiter (FIFO)", async () => {
    const q = queue();
    q.acquire(1);
    const order: string[] = [];
    const waiters = ["a", "b", "c"].map((name) => q.acquire(1)?.then(() => order.push(name)));
    expect(q.waiting).toBe(3);

    q.release(1);
    await flush();
    expect(order).toEqual(["a"]);
    expect(q.running).toBe(1);
    expect(q.waiting).toBe(2);

    q.release(1);
    await flush();
    expect(order).toEqual(["a", "b"]);

    q.release(1);
    await flush();
    expect(order).toEqual(["a", "b", "c"]);
    await Promise.all(waiters);

    q.release(1);
    expect(q.running).toBe(0);
    expect(q.waiting).toBe(0);
  });

  it("refuses a waiter with QueueTimeoutError after one interval when the queue is not standing", async () => {
    const q = queue(100, 30);
    q.acquire(1);
    const waiter = track(q.acquire(1));

    await at(99);
    expect(waiter.current.state).toBe("pending");
    expect(q.waiting).toBe(1);

    await at(100);
    expect(waiter.current.state).toBe("rejected");
    const { error } = waiter.current as { error: unknown };
    expect(error).toBeInstanceOf(QueueTimeoutError);
    expect((error as QueueTimeoutError).waitedMs).toBe(100);
    expect(q.waiting).toBe(0);
    // A refused waiter never took a place.
    expect(q.running).toBe(1);
  });

  it("gives a waiter only the target once the queue has been non-empty for a whole interval", async () => {
    const q = queue(100, 30);
    q.acquire(1);
    const a = track(q.acquire(1));
    await at(50);
    const b = track(q.acquire(1));
    await at(99);
    // a is sent just in time; b keeps the queue non-empty, so it has been for 100 ms at t=100.
    q.release(1);
    await flush();
    expect(a.current.state).toBe("resolved");
    expect(b.current.state).toBe("pending");

    await at(100);
    const c = track(q.acquire(1));
    await at(129);
    expect(c.current.state).toBe("pending");
    await at(130);
    // c, the newest, is refused first: it had only the target.
    expect(c.current.state).toBe("rejected");
    expect((c.current as { error: unknown }).error).toBeInstanceOf(QueueTimeoutError);
    expect(b.current.state).toBe("pending");

    // b keeps the budget it was given when it joined (an interval).
    await at(149);
    expect(b.current.state).toBe("pending");
    await at(150);
    expect(b.current.state).toBe("rejected");
    q.release(1);
    expect(q.running).toBe(0);
    expect(q.waiting).toBe(0);
  });

  it("treats the queue as standing for an interval after a refusal, even once it emptied", async () => {
    const q = queue(100, 30);
    q.acquire(1);
    const refused = track(q.acquire(1));
    await at(100);
    expect(refused.current.state).toBe("rejected");
    expect(q.waiting).toBe(0);

    // Empty, but a waiter was refused 10 ms ago: the next one gets only the target.
    await at(110);
    const next = track(q.acquire(1));
    await at(139);
    expect(next.current.state).toBe("pending");
    await at(140);
    expect(next.current.state).toBe("rejected");

    // A whole interval after the last refusal (at 140), with the queue empty: the full budget again.
    await at(240);
    const later = track(q.acquire(1));
    await at(339);
    expect(later.current.state).toBe("pending");
    q.release(1);
    await flush();
    expect(later.current.state).toBe("resolved");
    q.release(1);
    expect(q.running).toBe(0);
  });

  it("refuses on release a waiter whose timer is late instead of sending it past its budget", async () => {
    // The queue's clock runs ahead of the timers, as when a busy event loop delays them.
    let now = 0;
    const q = new UpstreamQueue({ intervalMs: 100, targetMs: 30, now: () => now });
    q.acquire(1);
    const late = track(q.acquire(1));
    now = 60;
    const onTime = track(q.acquire(1));

    now = 120; // `late` waited 120 ms (budget 100), `onTime` 60 ms; no timer has fired.
    q.release(1);
    await flush();
    expect(late.current.state).toBe("rejected");
    const { error } = late.current as { error: unknown };
    expect(error).toBeInstanceOf(QueueTimeoutError);
    expect((error as QueueTimeoutError).waitedMs).toBe(120);
    // The place went to the next waiter still within its budget.
    expect(onTime.current.state).toBe("resolved");
    expect(q.running).toBe(1);
    expect(q.waiting).toBe(0);

    // The refusal makes the queue standing: a new waiter gets the target only.
    const next = track(q.acquire(1));
    await vi.advanceTimersByTimeAsync(29);
    expect(next.current.state).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect(next.current.state).toBe("rejected");

    q.release(1);
    expect(q.running).toBe(0);
    expect(q.waiting).toBe(0);
    // Nothing is left to fire later.
    expect(vi.getTimerCount()).toBe(0);
  });

  it("is overloaded only while standing with waiters worth at least half the target at the measured drain rate", async () => {
    const q = queue(100, 40);
    q.acquire(1);
    const settled: Promise<unknown>[] = [];
    const enqueue = () => {
      const waiting = q.acquire(1);
      expect(waiting).toBeInstanceOf(Promise);
      settled.push(waiting as Promise<void>);
    };
    enqueue();
    enqueue();

    // One release every 10 ms, each followed by a new arrival: two waiters all along.
    for (let t = 10; t <= 100; t += 10) {
      await at(t);
      q.release(1);
      enqueue();
      if (t === 50) {
        // Not standing yet (non-empty for 50 ms only): never overloaded.
        expect(q.waiting).toBe(2);
        expect(q.overloaded()).toBe(false);
      }
    }
    await flush();
    // Standing; 10 places given back in 100 ms: 0.1/ms × 40 ms / 2 = 2 waiters is the threshold.
    expect(q.waiting).toBe(2);
    expect(q.overloaded()).toBe(true);

    // Over the next interval the upstream drains twice as fast (one every 5 ms).
    for (let t = 105; t <= 200; t += 5) {
      await at(t);
      q.release(1);
      enqueue();
    }
    await flush();
    // 20 in 100 ms: 0.2/ms × 40 / 2 = 4; two waiters are no overload although the queue stands.
    expect(q.waiting).toBe(2);
    expect(q.overloaded()).toBe(false);
    enqueue();
    expect(q.overloaded()).toBe(false);
    enqueue();
    expect(q.waiting).toBe(4);
    expect(q.overloaded()).toBe(true);

    // The queue drains completely.
    for (let i = 0; i < 4; i++) q.release(1);
    await flush();
    expect(q.waiting).toBe(0);
    expect(q.running).toBe(1);
    expect(q.overloaded()).toBe(false);

    // An interval later, with no refusal meanwhile, a new queue is not standing: not overloaded,
    // and its waiter has the whole interval.
    await at(300);
    enqueue();
    expect(q.overloaded()).toBe(false);
    await at(399);
    expect(q.overloaded()).toBe(false);
    q.release(1);
    q.release(1);
    await Promise.all(settled);
    expect(q.running).toBe(0);
    expect(q.waiting).toBe(0);
  });

  it("stays standing for an interval after a refusal at the door, even once it emptied", async () => {
    const q = queue(100, 30);
    q.acquire(1);
    const waiters = [track(q.acquire(1)), track(q.acquire(1))];
    // One release every 10 ms and a new arrival after each: two waiters all along, standing at
    // 100 ms, against a threshold of 0.1/ms × 30 ms / 2 = 1.5 waiters.
    for (let t = 10; t <= 100; t += 10) {
      await at(t);
      q.release(1);
      waiters.push(track(q.acquire(1)));
    }
    expect(q.waiting).toBe(2);
    // The door refuses a request here (at 100 ms).
    expect(q.overloaded()).toBe(true);

    // The queue empties: nobody was refused in it, yet the door's refusal 50 ms ago keeps it
    // standing, so a newcomer may wait only the target.
    q.release(1);
    q.release(1);
    await flush();
    expect(q.waiting).toBe(0);
    expect(waiters.every((waiter) => waiter.current.state === "resolved")).toBe(true);
    await at(150);
    const next = track(q.acquire(1));
    await at(179);
    expect(next.current.state).toBe("pending");
    await at(180);
    expect(next.current.state).toBe("rejected");

    // A whole interval after the last refusal (the queue's own, at 180), empty again: the full budget.
    await at(280);
    const later = track(q.acquire(1));
    await at(379);
    expect(later.current.state).toBe("pending");
    q.release(1);
    await flush();
    expect(later.current.state).toBe("resolved");
  });

  it("measures the drain rate over the last interval, not since the queue was last idle", async () => {
    const q = queue(100, 30);
    // Idle for ten seconds, then a burst: 10 places taken, 10 waiters all along, one place given
    // back (and taken again) every millisecond for an interval.
    await at(10_000);
    const settled: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) q.acquire(10);
    for (let i = 0; i < 10; i++) settled.push(q.acquire(10) as Promise<void>);
    for (let t = 10_001; t <= 10_100; t++) {
      await at(t);
      q.release(10);
      settled.push(q.acquire(10) as Promise<void>);
    }
    await flush();
    expect(q.waiting).toBe(10);
    // 1/ms × 30 ms / 2 = 15 waiters would be an overload; 10 are not, idle seconds or not.
    expect(q.overloaded()).toBe(false);
    for (let i = 0; i < 20; i++) q.release(10);
    await Promise.allSettled(settled);
    expect(q.waiting).toBe(0);
  });

  it("counts nothing left once every waiter was sent or refused", async () => {
    const q = queue(100, 30);
    const outcomes: { current: Outcome }[] = [];
    for (let i = 0; i < 10; i++) outcomes.push(track(q.acquire(3)));
    expect(q.running).toBe(3);
    expect(q.waiting).toBe(7);

    // Two places given back: two waiters sent; the rest is refused at t=100.
    q.release(3);
    q.release(3);
    await at(100);
    const states = outcomes.map((outcome) => outcome.current.state);
    expect(states.filter((state) => state === "resolved")).toHaveLength(5);
    expect(states.filter((state) => state === "rejected")).toHaveLength(5);
    expect(q.waiting).toBe(0);
    expect(q.running).toBe(3);

    for (let i = 0; i < 3; i++) q.release(3);
    expect(q.running).toBe(0);
    expect(q.waiting).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("needs 0 < target <= interval", () => {
    expect(() => new UpstreamQueue({ intervalMs: 100, targetMs: 0 })).toThrow(RangeError);
    expect(() => new UpstreamQueue({ intervalMs: 100, targetMs: -5 })).toThrow(RangeError);
    expect(() => new UpstreamQueue({ intervalMs: 100, targetMs: 101 })).toThrow(RangeError);
    expect(() => new UpstreamQueue({ intervalMs: 100, targetMs: Number.NaN })).toThrow(RangeError);
    expect(() => new UpstreamQueue({ intervalMs: 100, targetMs: 100 })).not.toThrow();
    expect(() => new UpstreamQueue()).not.toThrow();
  });
});
