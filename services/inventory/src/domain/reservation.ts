import { availableOf, type StockLevel } from "./stock.js";

/**
 * The reservation rules of the checkout saga, as pure functions over plain values.
 *
 * A reservation holds stock for one order, all lines or none. Its life:
 *
 *   (none) --placed, all lines fit--> active --confirmed--> committed --cancelled--> restocked
 *   (none) --placed, a line short--> rejected
 *   active --cancelled--> released
 *   active --hold time passed--> expired
 *   (none) --cancelled--> cancelled (a tombstone: a late "placed" reserves nothing)
 */
export type ReservationStatus =
  | "active"
  | "committed"
  | "released"
  | "restocked"
  | "expired"
  | "rejected"
  | "cancelled";

export const RESERVATION_STATUSES: readonly ReservationStatus[] = [
  "active",
  "committed",
  "released",
  "restocked",
  "expired",
  "rejected",
  "cancelled",
];

export interface LineRequest {
  productId: string;
  quantity: number;
}

/**
 * One line per product, quantities summed, sorted by product id. Sorting gives every
 * transaction the same lock order over product rows (no deadlocks between orders that share
 * products); merging makes "two lines of the same product" reserve their sum, not each alone.
 */
export function mergeLines(lines: readonly LineRequest[]): LineRequest[] {
  const byProduct = new Map<string, number>();
  for (const line of lines)
    byProduct.set(line.productId, (byProduct.get(line.productId) ?? 0) + line.quantity);
  return [...byProduct.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([productId, quantity]) => ({ productId, quantity }));
}

export type ReservationPlan =
  | { outcome: "reserve"; lines: LineRequest[] }
  /** Nothing is held; `productIds` are the lines that do not fit (or name no product), sorted. */
  | { outcome: "reject"; productIds: string[] };

/**
 * All or nothing: the order is reserved only if every line fits in its product's available
 * stock; an unknown product counts as out of stock. `lines` must be merged (see mergeLines).
 */
export function planReservation(
  lines: readonly LineRequest[],
  levels: ReadonlyMap<string, StockLevel>,
): ReservationPlan {
  const short = lines.filter((line) => {
    const level = levels.get(line.productId);
    return level === undefined || availableOf(level) < line.quantity;
  });
  if (short.length > 0) return { outcome: "reject", productIds: short.map((line) => line.productId).sort() };
  return { outcome: "reserve", lines: [...lines] };
}

/** A reserved line and whether its units are still held (counted in the product's `reserved`). */
export interface HeldLine extends LineRequest {
  held: boolean;
}

export type CommitPlan =
  | { outcome: "commit" }
  /** The hold expired and the stock went to other orders: these products cannot be committed. */
  | { outcome: "shortfall"; productIds: string[] };

/**
 * Committing takes held units out of `reserved` and `stock` together. A line whose hold expired
 * is no longer held: it can still be committed if its product has the units available now,
 * otherwise committing it would oversell, and nothing is committed.
 */
export function planCommit(lines: readonly HeldLine[], levels: ReadonlyMap<string, StockLevel>): CommitPlan {
  const short = lines.filter((line) => {
    if (line.held) return false;
    const level = levels.get(line.productId);
    return level === undefined || availableOf(level) < line.quantity;
  });
  if (short.length > 0)
    return { outcome: "shortfall", productIds: short.map((line) => line.productId).sort() };
  return { outcome: "commit" };
}

/** What an OrderConfirmed does to the order's reservation. */
export type ConfirmAction =
  /** Take the reserved units out of stock (re-acquiring any whose hold expired). */
  | "commit"
  /** Already committed: a duplicate. */
  | "nothing"
  /** The order was rejected or cancelled here; a confirmation cannot apply. */
  | "ignore";

export function confirmAction(status: ReservationStatus): ConfirmAction {
  switch (status) {
    case "active":
    case "expired":
      return "commit";
    case "committed":
      return "nothing";
    default:
      return "ignore";
  }
}

/** What an OrderCancelled does to the order's reservation (undefined: none recorded yet). */
export type CancelAction =
  /** Nothing known about the order: record a tombstone so a late OrderPlaced reserves nothing. */
  | "tombstone"
  /** Give the held units back to the available stock. */
  | "release"
  /** The units left the stock at confirmation: put them back. */
  | "restock"
  /** Nothing is held or committed (rejected, expired, or already compensated). */
  | "nothing";

/**
 * Decided by what this service recorded, not by the event's `wasConfirmed`: stock is put back
 * only if it was taken here, so a confirmation that never arrived (or arrives late) cannot
 * make a cancel restock units that never left.
 */
export function cancelAction(status: ReservationStatus | undefined): CancelAction {
  switch (status) {
    case undefined:
      return "tombstone";
    case "active":
      return "release";
    case "committed":
      return "restock";
    default:
      return "nothing";
  }
}

/** The status a reservation ends in after a cancel action. */
export function statusAfterCancel(action: "release" | "restock"): ReservationStatus {
  return action === "release" ? "released" : "restocked";
}
