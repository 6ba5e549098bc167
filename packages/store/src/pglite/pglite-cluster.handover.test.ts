import { describe, expect, it } from "vitest";
import { HANDOVER_SLICE_MS, PgliteCluster } from "./pglite-cluster.js";

/** Keeps this thread busy (a borrower's synchronous work) for `ms`. */
function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

// Why it matters: PGlite answers without real I/O, so borrowers handed the connection in a chain
// of microtasks would keep the event loop from reading sockets, and libuv accepts one new
// connection per turn of the loop: the turns are what lets new clients in under load.
describe("PgliteCluster's handover", () => {
  it("lets the event loop turn before a queued borrower gets the connection once a chain ran a slice", async () => {
    const cluster = await PgliteCluster.open(undefined);
    try {
      const seen: string[] = [];
      const releaseFirst = await cluster.borrow(undefined);
      const second = cluster.borrow(undefined).then((release) => {
        seen.push("second borrower");
        release();
      });
      busyFor(HANDOVER_SLICE_MS + 1);
      setImmediate(() => seen.push("event loop turn"));
      releaseFirst();
      await second;
      expect(seen).toEqual(["event loop turn", "second borrower"]);
    } finally {
      await cluster.close();
    }
  });

  it("keeps lending the connection to queued borrowers in the order they asked, across turns", async () => {
    const cluster = await PgliteCluster.open(undefined);
    try {
      const order: number[] = [];
      await Promise.all(
        Array.from({ length: 6 }, (_, n) =>
          cluster.borrow(undefined).then((release) => {
            order.push(n);
            busyFor(HANDOVER_SLICE_MS / 2);
            release();
          }),
        ),
      );
      expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      await cluster.close();
    }
  });
});
