import { describe, expect, it } from "vitest";
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
