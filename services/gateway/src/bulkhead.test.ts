import { describe, expect, it, vi } from "vitest";
import { Bulkhead } from "./bulkhead.js";

/** A call that stays in flight until `release` is called. */
function pending(): { call: () => Promise<string>; release: () => void } {
  let release = () => {};
  const settled = new Promise<string>((done) => {
    release = () => done("done");
  });
  return { call: () => settled, release };
}

describe("Bulkhead", () => {
  it("refuses a service's excess call with 503 and Retry-After, and frees the slot when a call settles", async () => {
    const bulkhead = new Bulkhead(1);
    const first = pending();
    const running = bulkhead.run("orders", first.call);
    await expect(bulkhead.run("orders", async () => "second")).rejects.toMatchObject({
      status: 503,
      headers: { "retry-after": "1" },
    });
    // Another service has slots of its own.
    await expect(bulkhead.run("inventory", async () => "other")).resolves.toBe("other");
    first.release();
    await running;
    expect(bulkhead.inFlight("orders")).toBe(0);
    await expect(bulkhead.run("orders", async () => "third")).resolves.toBe("third");
  });

  it("gives held requests slots of their own: followers of orders never take a new checkout's slot", async () => {
    const bulkhead = new Bulkhead(1, 2);
    const held = [pending(), pending()];
    const holding = held.map((one) => bulkhead.run("orders", one.call, true));
    expect(bulkhead.inFlight("orders", true)).toBe(2);
    expect(bulkhead.inFlight("orders")).toBe(0);
    // The ordinary slot is still free while both held slots are taken…
    await expect(bulkhead.run("orders", async () => "placed")).resolves.toBe("placed");
    // …and a third held request is refused like any excess.
    await expect(bulkhead.run("orders", async () => "third", true)).rejects.toMatchObject({ status: 503 });
    for (const one of held) one.release();
    await Promise.all(holding);
    expect(bulkhead.inFlight("orders", true)).toBe(0);
  });

  it("needs at least one slot of each kind", () => {
    expect(() => new Bulkhead(0)).toThrow(/at least one slot/);
    expect(() => new Bulkhead(4, 0)).toThrow(/at least one slot/);
  });
});

describe("Bulkhead with a queue per upstream (capacityOf)", () => {
  /** A bulkhead whose every service has one place; its refusals recorded. */
  function queued(maxInFlight = 8, intervalMs = 10_000, targetMs = 5_000) {
    const sheds: [string, string][] = [];
    const bulkhead = new Bulkhead(maxInFlight, 4, {
      capacityOf: () => 1,
      onShed: (service, stage) => sheds.push([service, stage]),
      intervalMs,
      targetMs,
    });
    return { bulkhead, sheds };
  }

  it("makes a call past the capacity wait, then runs it once the running one settles", async () => {
    const { bulkhead, sheds } = queued();
    const first = pending();
    const running = bulkhead.run("orders", first.call);
    const second = vi.fn(async () => "second");
    const waiting = bulkhead.run("orders", second);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(second).not.toHaveBeenCalled();
    expect(bulkhead.waiting("orders")).toBe(1);
    expect(bulkhead.inFlight("orders")).toBe(2);
    // Another service has a queue (and a place) of its own.
    await expect(bulkhead.run("inventory", async () => "other")).resolves.toBe("other");

    first.release();
    await expect(running).resolves.toBe("done");
    await expect(waiting).resolves.toBe("second");
    expect(second).toHaveBeenCalledTimes(1);
    expect(bulkhead.waiting("orders")).toBe(0);
    expect(bulkhead.inFlight("orders")).toBe(0);
    expect(sheds).toEqual([]);
  });

  it("frees the place of a call that failed for the next waiter", async () => {
    const { bulkhead } = queued();
    let fail = () => {};
    const failing = bulkhead.run(
      "orders",
      () =>
        new Promise<string>((_, reject) => {
          fail = () => reject(new Error("upstream broke"));
        }),
    );
    const waiting = bulkhead.run("orders", async () => "next");
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(bulkhead.waiting("orders")).toBe(1);
    fail();
    await expect(failing).rejects.toThrow("upstream broke");
    await expect(waiting).resolves.toBe("next");
  });

  it("refuses a waiter past its budget with 503 and Retry-After, reported as shed in the queue", async () => {
    const { bulkhead, sheds } = queued(8, 40, 10);
    const first = pending();
    const running = bulkhead.run("orders", first.call);
    const never = vi.fn(async () => "sent");
    await expect(bulkhead.run("orders", never)).rejects.toMatchObject({
      status: 503,
      headers: { "retry-after": "1" },
    });
    expect(never).not.toHaveBeenCalled();
    expect(sheds).toEqual([["orders", "queue"]]);
    expect(bulkhead.waiting("orders")).toBe(0);
    expect(bulkhead.inFlight("orders")).toBe(1);

    first.release();
    await running;
    expect(bulkhead.inFlight("orders")).toBe(0);
    // The place is free again: the next call runs at once.
    await expect(bulkhead.run("orders", async () => "after")).resolves.toBe("after");
  });

  it("asks for the capacity while the queue stands apart: two places for a burst, one once a waiter was refused", async () => {
    const asked: boolean[] = [];
    const bulkhead = new Bulkhead(8, 4, {
      capacityOf: (_service, standing) => {
        asked.push(standing);
        return standing ? 1 : 2;
      },
      // A target as long as the interval: the waiter below has time to spare on a busy machine.
      intervalMs: 100,
      targetMs: 100,
    });
    // A burst: two run at once, the third waits past its budget (100 ms) and is refused unsent.
    const first = pending();
    const second = pending();
    const running = [bulkhead.run("orders", first.call), bulkhead.run("orders", second.call)];
    const refused = vi.fn(async () => "sent");
    await expect(bulkhead.run("orders", refused)).rejects.toMatchObject({ status: 503 });
    expect(refused).not.toHaveBeenCalled();
    expect(asked).toEqual([false, false, false]);

    // Standing for an interval after that refusal: one place only, so with one still running
    // the next call waits until it settles.
    first.release();
    await running[0];
    const next = vi.fn(async () => "next");
    const waiting = bulkhead.run("orders", next);
    await new Promise((resolve) => setTimeout(resolve, 2));
    expect(asked.at(-1)).toBe(true);
    expect(next).not.toHaveBeenCalled();
    expect(bulkhead.waiting("orders")).toBe(1);
    second.release();
    await expect(waiting).resolves.toBe("next");
    await running[1];
  });

  it("never queues held requests, and they never take an ordinary request's place", async () => {
    const { bulkhead, sheds } = queued();
    const ordinary = pending();
    const running = bulkhead.run("orders", ordinary.call);
    // The one place is taken, yet held requests run at once, beyond the capacity.
    const held = [pending(), pending()];
    const heldCalls = held.map((one) => vi.fn(one.call));
    const holding = heldCalls.map((call) => bulkhead.run("orders", call, true));
    expect(heldCalls[0]).toHaveBeenCalledTimes(1);
    expect(heldCalls[1]).toHaveBeenCalledTimes(1);
    expect(bulkhead.waiting("orders")).toBe(0);
    expect(bulkhead.inFlight("orders", true)).toBe(2);

    ordinary.release();
    await running;
    // With both held requests still pending, an ordinary one gets the place at once.
    const next = vi.fn(async () => "placed");
    const placed = bulkhead.run("orders", next);
    await Promise.resolve();
    expect(bulkhead.waiting("orders")).toBe(0);
    await expect(placed).resolves.toBe("placed");
    for (const one of held) one.release();
    await Promise.all(holding);
    expect(sheds).toEqual([]);
  });

  it("still refuses at once past maxInFlight (the waiters count), reported as shed at the bulkhead", async () => {
    const { bulkhead, sheds } = queued(2);
    const first = pending();
    const running = bulkhead.run("orders", first.call);
    const waiting = bulkhead.run("orders", async () => "second");
    const third = vi.fn(async () => "third");
    await expect(bulkhead.run("orders", third)).rejects.toMatchObject({
      status: 503,
      headers: { "retry-after": "1" },
    });
    expect(third).not.toHaveBeenCalled();
    expect(sheds).toEqual([["orders", "bulkhead"]]);
    expect(bulkhead.waiting("orders")).toBe(1);

    first.release();
    await running;
    await expect(waiting).resolves.toBe("second");
    expect(sheds).toEqual([["orders", "bulkhead"]]);
  });

  it("reports a service overloaded once its queue stands with nothing draining it", async () => {
    let now = 0;
    const bulkhead = new Bulkhead(8, 4, {
      capacityOf: () => 1,
      intervalMs: 10_000,
      targetMs: 5_000,
      now: () => now,
    });
    const first = pending();
    const running = bulkhead.run("orders", first.call);
    const waiting = bulkhead.run("orders", async () => "second");
    expect(bulkhead.overloaded("orders")).toBe(false);
    now = 9_999;
    expect(bulkhead.overloaded("orders")).toBe(false);
    now = 10_000;
    // Non-empty for a whole interval, and no place given back in it.
    expect(bulkhead.overloaded("orders")).toBe(true);
    expect(bulkhead.overloaded("inventory")).toBe(false);
    first.release();
    await running;
    await expect(waiting).resolves.toBe("second");
    expect(bulkhead.overloaded("orders")).toBe(false);
  });

  it("is not overloaded for a service that never queued", () => {
    const { bulkhead } = queued();
    expect(bulkhead.overloaded("orders")).toBe(false);
    expect(bulkhead.waiting("orders")).toBe(0);
  });
});
