/**
 * Stock arithmetic, the same everywhere: a product has `stock` units on the shelf, of which
 * `reserved` are held for orders that have not been confirmed yet. What customers can still
 * order is the difference. The database keeps `0 <= reserved <= stock` as a CHECK; these rules
 * decide before a write so that the CHECK is only ever the last guard.
 */
export interface StockLevel {
  stock: number;
  reserved: number;
}

/** The largest stock a product may have (far below PostgreSQL's integer limit). */
export const MAX_STOCK = 1_000_000_000;

/** Units customers can still order: stock minus what active reservations hold. */
export function availableOf(level: StockLevel): number {
  return level.stock - level.reserved;
}

export type StockAdjustment =
  | { outcome: "adjust"; stock: number }
  /** The new stock would be below what is reserved (or below zero). */
  | { outcome: "below-reserved"; stock: number; reserved: number; requested: number }
  | { outcome: "above-limit"; requested: number };

/** An admin's stock correction: `delta` may be negative, but stock never drops below what is reserved. */
export function planStockAdjustment(level: StockLevel, delta: number): StockAdjustment {
  const requested = level.stock + delta;
  if (requested < level.reserved || requested < 0) {
    return { outcome: "below-reserved", stock: level.stock, reserved: level.reserved, requested };
  }
  if (requested > MAX_STOCK) return { outcome: "above-limit", requested };
  return { outcome: "adjust", stock: requested };
}
