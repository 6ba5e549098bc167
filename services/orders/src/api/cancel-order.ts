import { requireUser } from "@blossom/auth";
import { recordAudit, type ServiceContext } from "@blossom/host";
import { type App, HttpProblem } from "@blossom/runtime";
import { sagaMetrics } from "@blossom/telemetry";
import { publishCancelled } from "../events/saga-events.js";
import { pendingOrderWatch } from "../saga/pending-order-watch.js";
import { cancelOrder, findOrder, orderHistory } from "../store/orders-store.js";
import type { OrdersTables } from "../store/tables.js";
import { toOrderView } from "./order-view.js";
import { OrderParams, OrderView } from "./schemas.js";

/**
 * `POST /api/orders/:id/cancel`: the owner (or an admin) cancels a pending or confirmed order;
 * OrderCancelled makes inventory release or restock and payments void or refund. Cancelling an
 * order that is already cancelled answers it as it is (a retried cancel succeeds).
 */
export function registerCancelOrder(app: App, context: ServiceContext<OrdersTables>): void {
  app.post(
    "/api/orders/:id/cancel",
    { config: { auth: "user" }, schema: { params: OrderParams, response: { 200: OrderView } } },
    async (request) => {
      const user = requireUser(request);
      const existing = await findOrder(context.db, request.params.id);
      if (!existing || (existing.user_id !== user.userId && user.role !== "admin")) {
        throw HttpProblem.of("notFound", `No order ${request.params.id}`);
      }
      const cancelled = await context.transaction(async (trx) => {
        const result = await cancelOrder(trx, existing.id, "cancelled_by_customer", ["pending", "confirmed"]);
        if (!result) return undefined;
        await publishCancelled(context, trx, result.order, result.previous === "confirmed");
        await recordAudit(trx, {
          actor: user.userId,
          action: "order.cancelled",
          target: existing.id,
          details: { previousStatus: result.previous, byAdmin: existing.user_id !== user.userId },
        });
        return result;
      });
      // A pending order's checkout ends here; a confirmed one's already ended (confirmed).
      if (cancelled?.previous === "pending") {
        sagaMetrics(context.metrics).settled("cancelled", new Date(cancelled.order.created_at));
        pendingOrderWatch(context).settled(cancelled.order.id);
      }
      const row = await findOrder(context.db, existing.id);
      if (!row) throw new Error(`order ${existing.id} vanished`);
      return toOrderView(row, await orderHistory(context.db, row.id));
    },
  );
}
