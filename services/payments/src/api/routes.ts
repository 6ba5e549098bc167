import type { ServiceContext } from "@blossom/host";
import type { App } from "@blossom/runtime";
import { paymentsOfOrder } from "../store/payments-store.js";
import type { PaymentsTables } from "../store/tables.js";
import { PaymentList, PaymentsQuery } from "./schemas.js";

export function paymentsRoutes(app: App, context: ServiceContext<PaymentsTables>): void {
  app.get(
    "/api/payments",
    { schema: { querystring: PaymentsQuery, response: { 200: PaymentList } } },
    async (request) => {
      const rows = await paymentsOfOrder(context.db, request.query.orderId);
      return {
        items: rows.map((row) => ({
          id: row.id,
          orderId: row.order_id,
          amount: { amount: row.amount, currency: "USD" as const },
          status: row.status,
          createdAt: row.created_at.toISOString(),
        })),
        nextCursor: null,
      };
    },
  );
}
