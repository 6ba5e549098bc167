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
    ...(history
      ? { history: history.map((entry) => ({ status: entry.status, at: entry.at.toISOString() })) }
      : {}),
    createdAt: row.created_at.toISOString(),
  };
}
