import type { StoredOrderLine } from "../store/tables.js";

/** The order total in minor units; prices come from inventory, never from the client. */
export function orderTotal(lines: StoredOrderLine[]): { amount: number; currency: "USD" } {
  const amount = lines.reduce((sum, line) => sum + line.unitPrice.amount * line.quantity, 0);
  if (!Number.isSafeInteger(amount)) throw new RangeError("order total overflows");
  return { amount, currency: "USD" };
}
