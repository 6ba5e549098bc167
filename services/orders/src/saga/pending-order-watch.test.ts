import { describe, expect, it } from "vitest";
import { PendingOrderWatch } from "./pending-order-watch.js";

/** A watch over a set of settled ids that the test changes, counting the look-ups. */
function watchOver(settled: Set<string>, maxWaiters = 10) {
  const lookups: string[][] = [];
  const watch = new PendingOrderWatch(
    async (ids) => {
      lookups.push(ids);
      return ids.map((id) => ({
        id,
        pending: !settled.has(id),
        tag: settled.has(id) ? "settled" : "pending",
      }));
    },
    () => {},
    5,
    maxWaiters,
  );
  return { watch, lookups };
}

const within = (ms: number, promise: Promise<void>) =>
  Promise.race([
    promise.then(() => "woken"),
    new Promise((resolve) => setTimeout(() => resolve("still waiting"), ms)),
  ]);

describe("PendingOrderWatch", () => {
  it("wakes a waiter at once when this process settles the order", async () => {
    const { watch } = watchOver(new Set());
    const waiting = watch.wait("a", 10_000);
    expect(watch.waiting).toBe(1);
    watch.settled("a");
    expect(await within(50, waiting as Promise<void>)).toBe("woken");
    expect(watch.waiting).toBe(0);
  });

  it("finds orders settled elsewhere with one look-up for every id waited on", async () => {
    const settled = new Set<string>();
    const { watch, lookups } = watchOver(settled);
    const a = watch.wait("a", 10_000) as Promise<void>;
    const b = watch.wait("b", 10_000) as Promise<void>;
    const a2 = watch.wait("a", 10_000) as Promise<void>;
    expect(await within(30, a)).toBe("still waiting");
    settled.add("a");
    expect(
      await within(
        200,
        Promise.all([a, a2]).then(() => undefined),
      ),
    ).toBe("woken");
    expect(await within(20, b)).toBe("still waiting");
    expect(lookups.some((ids) => ids.includes("a") && ids.includes("b"))).toBe(true);
    expect(watch.waiting).toBe(1);
    watch.close();
    expect(await within(50, b)).toBe("woken");
  });

  it("gives up after the timeout or on abort, and stops looking when nobody waits", async () => {
    const { watch, lookups } = watchOver(new Set());
    expect(await within(500, watch.wait("late", 30) as Promise<void>)).toBe("woken");
    const gone = new AbortController();
    const aborted = watch.wait("gone", 10_000, gone.signal) as Promise<void>;
    gone.abort();
    expect(await within(50, aborted)).toBe("woken");
    expect(watch.waiting).toBe(0);
    const count = lookups.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lookups.length).toBe(count);
  });

  it("answers at once (no wait) when full, closed, or already aborted", () => {
    const { watch } = watchOver(new Set(), 1);
    expect(watch.wait("a", 10_000)).toBeDefined();
    expect(watch.wait("b", 10_000)).toBeUndefined();
    expect(watch.wait("c", 10_000, AbortSignal.abort())).toBeUndefined();
    watch.close();
    expect(watch.wait("d", 10_000)).toBeUndefined();
  });

  it("keeps waiting through a failed look-up", async () => {
    let fail = true;
    const errors: unknown[] = [];
    const watch = new PendingOrderWatch(
      async (ids) => {
        if (fail) throw new Error("connection lost");
        return ids.map((id) => ({ id, pending: false, tag: "settled" }));
      },
      (error) => errors.push(error),
      5,
    );
    const waiting = watch.wait("a", 10_000) as Promise<void>;
    expect(await within(40, waiting)).toBe("still waiting");
    expect(errors.length).toBeGreaterThan(0);
    fail = false;
    expect(await within(200, waiting)).toBe("woken");
  });

  it("wakes a waiter that follows the steps when the order changes at all, one waiting for the outcome only when it settles", async () => {
    let tag = '"pending.reserving"';
    const watch = new PendingOrderWatch(
      async (ids) => ids.map((id) => ({ id, pending: true, tag })),
      () => {},
      5,
    );
    const following = watch.wait("a", 10_000, undefined, '"pending.reserving"') as Promise<void>;
    const outcome = watch.wait("a", 10_000) as Promise<void>;
    expect(await within(30, following)).toBe("still waiting");
    // Another replica moved the checkout on: the look-up sees the new tag.
    tag = '"pending.authorizing"';
    expect(await within(200, following)).toBe("woken");
    expect(await within(30, outcome)).toBe("still waiting");
    // In this process: a step wakes only those following steps.
    const next = watch.wait("a", 10_000, undefined, tag) as Promise<void>;
    tag = '"pending.authorizing"';
    watch.stepped("a");
    expect(await within(50, next)).toBe("woken");
    expect(await within(30, outcome)).toBe("still waiting");
    watch.settled("a");
    expect(await within(50, outcome)).toBe("woken");
  });
});
