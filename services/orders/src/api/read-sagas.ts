import { requireAdmin } from "@blossom/auth";
import type { ServiceContext } from "@blossom/host";
import { type App, HttpProblem } from "@blossom/runtime";
import type { Static } from "@sinclair/typebox";
import type { HistoryEntry, OrderRow } from "../store/orders-store.js";
import { historiesOf, listSagas, sagaCounts } from "../store/sagas-store.js";
import type { OrdersTables } from "../store/tables.js";
import { decodeOrderCursor, encodeOrderCursor } from "./order-cursor.js";
import { SagaPage, SagasQuery, type SagaView } from "./schemas.js";

function toSagaView(row: OrderRow, history: HistoryEntry[], now: Date): Static<typeof SagaView> {
  return {
    id: row.id,
    userId: row.user_id,
    status: row.status,
    step: row.saga_step,
    deadline: row.deadline ? row.deadline.toISOString() : null,
    overdue: row.status === "pending" && row.deadline !== null && row.deadline < now,
    total: { amount: row.total_amount, currency: "USD" },
    itemCount: row.items.reduce((sum, line) => sum + line.quantity, 0),
    ...(row.cancellation_reason ? { cancellationReason: row.cancellation_reason } : {}),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    history: history.map((entry) => ({ status: entry.status, at: entry.at.toISOString() })),
  };
}

/**
 * `GET /api/orders/sagas` (admins): every customer's checkouts, newest first, with the saga's
 * step, deadline and status history, and the count of orders in each status (the operations
 * console's saga view). `overdue=true` keeps the pending orders past their deadline.
 */
export function registerReadSagas(app: App, context: ServiceContext<OrdersTables>): void {
  app.get(
    "/api/orders/sagas",
    { config: { auth: "admin" }, schema: { querystring: SagasQuery, response: { 200: SagaPage } } },
    async (request) => {
      requireAdmin(request);
      const { status, overdue, limit, cursor } = request.query;
      const after = cursor === undefined ? undefined : decodeOrderCursor(cursor);
      if (cursor !== undefined && !after) throw HttpProblem.of("validation", "cursor is not valid");
      const now = new Date();
      const [counts, rows] = await Promise.all([
        sagaCounts(context.db, now),
        listSagas(context.db, { status, overdueAt: overdue ? now : undefined, limit, after }),
      ]);
      const page = rows.slice(0, limit);
      const histories = await historiesOf(
        context.db,
        page.map((row) => row.id),
      );
      const last = page.at(-1);
      return {
        counts,
        items: page.map((row) => toSagaView(row, histories.get(row.id) ?? [], now)),
        nextCursor: rows.length > limit && last ? encodeOrderCursor(last.created_at, last.id) : null,
      };
    },
  );
}
