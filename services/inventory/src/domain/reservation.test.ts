import { describe, expect, it } from "vitest";
import { DEFAULT_HOLD_SECONDS, sweepIntervalMs } from "./hold.js";
import {
  cancelAction,
  confirmAction,
  mergeLines,
  planCommit,
  planReservation,
  RESERVATION_STATUSES,
} from "./reservation.js";
import { availableOf, MAX_STOCK, planStockAdjustment } from "./stock.js";

const levels = (entries: Record<string, [stock: number, reserved: number]>) =>
  new Map(Object.entries(entries).map(([id, [stock, reserved]]) => [id, { stock, reserved }]));

describe("mergeLines", () => {
  it("sums the lines of one product and sorts by product id (the lock order)", () => {
    expect(
      mergeLines([
        { productId: "b", quantity: 1 },
        { productId: "a", quantity: 2 },
        { productId: "b", quantity: 3 },
      ]),
    ).toEqual([
      { productId: "a", quantity: 2 },
      { productId: "b", quantity: 4 },
    ]);
  });
});

describe("planReservation: all or nothing", () => {
  it("reserves when every line fits in stock minus reserved", () => {
    const lines = [
      { productId: "a", quantity: 2 },
      { productId: "b", quantity: 5 },
    ];
    expect(planReservation(lines, levels({ a: [10, 8], b: [5, 0] }))).toEqual({ outcome: "reserve", lines });
  });

  it("rejects the whole order when one line is short, naming every short line", () => {
    const lines = [
      { productId: "a", quantity: 3 },
      { productId: "b", quantity: 1 },
      { productId: "c", quantity: 6 },
    ];
    expect(planReservation(lines, levels({ a: [10, 8], b: [1, 0], c: [5, 0] }))).toEqual({
      outcome: "reject",
      productIds: ["a", "c"],
    });
  });

  it("treats an unknown product as out of stock", () => {
    expect(planReservation([{ productId: "ghost", quantity: 1 }], levels({}))).toEqual({
      outcome: "reject",
      productIds: ["ghost"],
    });
  });
});

describe("planCommit", () => {
  it("commits held lines whatever the availability", () => {
    expect(planCommit([{ productId: "a", quantity: 5, held: true }], levels({ a: [5, 5] }))).toEqual({
      outcome: "commit",
    });
  });

  it("re-acquires lines whose hold expired only from available stock", () => {
    const lines = [{ productId: "a", quantity: 2, held: false }];
    expect(planCommit(lines, levels({ a: [5, 3] }))).toEqual({ outcome: "commit" });
    expect(planCommit(lines, levels({ a: [5, 4] }))).toEqual({ outcome: "shortfall", productIds: ["a"] });
  });
});

describe("confirm and cancel decisions", () => {
  it("commits active or expired reservations, once", () => {
    expect(RESERVATION_STATUSES.map((status) => [status, confirmAction(status)])).toEqual([
      ["active", "commit"],
      ["committed", "nothing"],
      ["released", "ignore"],
      ["restocked", "ignore"],
      ["expired", "commit"],
      ["rejected", "ignore"],
      ["cancelled", "ignore"],
    ]);
  });

  it("releases a hold, restocks a commit, leaves a tombstone for an unknown order, and does nothing twice", () => {
    expect(cancelAction(undefined)).toBe("tombstone");
    expect(RESERVATION_STATUSES.map((status) => [status, cancelAction(status)])).toEqual([
      ["active", "release"],
      ["committed", "restock"],
      ["released", "nothing"],
      ["restocked", "nothing"],
      ["expired", "nothing"],
      ["rejected", "nothing"],
      ["cancelled", "nothing"],
    ]);
  });
});

describe("stock", () => {
  it("available is stock minus reserved", () => {
    expect(availableOf({ stock: 10, reserved: 4 })).toBe(6);
  });

  it("never lets an adjustment take stock below what is reserved", () => {
    expect(planStockAdjustment({ stock: 10, reserved: 4 }, -6)).toEqual({ outcome: "adjust", stock: 4 });
    expect(planStockAdjustment({ stock: 10, reserved: 4 }, -7)).toEqual({
      outcome: "below-reserved",
      stock: 10,
      reserved: 4,
      requested: 3,
    });
    expect(planStockAdjustment({ stock: 0, reserved: 0 }, -1).outcome).toBe("below-reserved");
    expect(planStockAdjustment({ stock: MAX_STOCK, reserved: 0 }, 1).outcome).toBe("above-limit");
  });
});

describe("hold time", () => {
  it("is 900 s unless INVENTORY_RESERVATION_HOLD_SECONDS says otherwise (see settings.test.ts)", () => {
    expect(DEFAULT_HOLD_SECONDS).toBe(900);
  });

  it("sweeps every half hold time, between 1 s and 60 s", () => {
    expect(sweepIntervalMs(1)).toBe(1000);
    expect(sweepIntervalMs(10)).toBe(5000);
    expect(sweepIntervalMs(900)).toBe(60_000);
  });
});
