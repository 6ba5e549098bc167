import { createHash } from "node:crypto";
import type { OrderLine, OrderStatus, SagaStep } from "./order.js";

export type { CancellationReason } from "./order.js";

/**
 * The largest order total, in minor units: what the orders and payments tables store (a
 * PostgreSQL `integer`), about 21 million dollars. 50 lines of 100 units at the catalog's
 * highest price would be 25 times that.
 */
export const MAX_ORDER_TOTAL_AMOUNT = 2_147_483_647;

/** The order total in minor units; prices come from inventory, never from the client. */
export function orderTotal(lines: OrderLine[]): { amount: number; currency: "USD" } {
  const amount = lines.reduce((sum, line) => sum + line.unitPrice.amount * line.quantity, 0);
  if (!Number.isSafeInteger(amount)) throw new RangeError("order total overflows");
  return { amount, currency: "USD" };
}

/** Whether an order of that total can be taken (see MAX_ORDER_TOTAL_AMOUNT). */
export function withinOrderLimit(total: { amount: number }): boolean {
  return total.amount <= MAX_ORDER_TOTAL_AMOUNT;
}

/**
 * A stable fingerprint of a place-order request, to tell a retry (same key, same body) from a
 * reuse of the key for something else (same key, other body → 422). Key order does not matter.
 */
export function requestHash(body: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([key, inner]) => [key, canonical(inner)]),
      );
    }
    return value;
  };
  return createHash("sha256")
    .update(JSON.stringify(canonical(body)))
    .digest("hex");
}

/** The customer may cancel a pending or a confirmed order; a cancelled one stays as it is. */
export function canCancel(status: OrderStatus): boolean {
  return status === "pending" || status === "confirmed";
}

/**
 * The saga's guarded transitions: each reply acts only on an order in the step that awaits it,
 * so a late or repeated reply (after a timeout, a redelivery) changes nothing.
 */
export const SAGA = {
  /** Stock is held: ask payments to authorize. */
  stockReserved: { from: { status: "pending", step: "reserving" }, to: { step: "authorizing" } },
  /** Payment authorized: confirm. */
  paymentAuthorized: {
    from: { status: "pending", step: "authorizing" },
    to: { status: "confirmed", step: "done" },
  },
} as const satisfies Record<
  string,
  { from: { status: OrderStatus; step: SagaStep }; to: { status?: OrderStatus; step: SagaStep } }
>;
