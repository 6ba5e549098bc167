import type { Static } from "@sinclair/typebox";
import type { HistoryEntry, OrderRow } from "../store/orders-store.js";
import type { OrderView } from "./schemas.js";

export function toOrderView(row: OrderRow, history?: HistoryEntry[]): Static<typeof OrderView> {
  return {
    id: row.id,
    status: row.status,
    items: row.items,
    total: { amount: row.total_amount, currency: "USD" },
    ...(row.cancellation_reason ? { cancellationReason: row.cancellation_reason } : {}),
    ...(row.status === "pending" && row.saga_step && row.saga_step !== "done"
      ? { step: PUBLIC_STEPS[row.saga_step] }
      : {}),
    ...(history
      ? { history: history.map((entry) => ({ status: entry.status, at: entry.at.toISOString() })) }
      : {}),
    createdAt: row.created_at.toISOString(),
  };
}

/** The saga's internal step names, as the API shows them. */
const PUBLIC_STEPS = { reserving: "reserving-stock", authorizing: "authorizing-payment" } as const;

/**
 * The order's `ETag`: what a client following a checkout compares (status and step; the rest of
 * the view only changes with the status).
 */
export function orderETag(row: Pick<OrderRow, "status" | "saga_step">): string {
  return `"${row.status}.${row.saga_step ?? "none"}"`;
}
