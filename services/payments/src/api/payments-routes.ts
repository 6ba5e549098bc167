import { requireUser } from "@blossom/auth";
import type { ServiceContext } from "@blossom/host";
import { type App, HttpProblem, problemResponse } from "@blossom/runtime";
import { paymentsOfOrder } from "../store/payments-store.js";
import type { PaymentsTables } from "../store/tables.js";
import { PaymentList, PaymentsQuery } from "./schemas.js";
import { toPaymentView } from "./views.js";

export function paymentRecordsRoutes(app: App, context: ServiceContext<PaymentsTables>): void {
  app.get(
    "/api/payments",
    {
      config: { auth: "user" },
      schema: {
        querystring: PaymentsQuery,
        response: {
          200: PaymentList,
          404: problemResponse("No payment of that order that the caller may see (answered alike)"),
        },
      },
    },
    async (request) => {
      const caller = requireUser(request);
      const { orderId } = request.query;
      const rows = await paymentsOfOrder(context.db, orderId);
      const visible = caller.role === "admin" ? rows : rows.filter((row) => row.user_id === caller.userId);
      // Someone else's order and an unknown one answer alike: nothing tells them apart.
      if (visible.length === 0) throw HttpProblem.of("notFound", `No payments for order ${orderId}`);
      return { items: visible.map(toPaymentView), nextCursor: null };
    },
  );
}
