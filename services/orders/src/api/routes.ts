import { randomUUID } from "node:crypto";
import type { ServiceContext } from "@blossom/host";
import { type App, HttpProblem } from "@blossom/runtime";
import type { Static } from "@sinclair/typebox";
import { orderTotal } from "../domain/pricing.js";
import { OrderPlaced } from "../events/contracts.js";
import { findOrder, insertOrder, type OrderRow } from "../store/orders-store.js";
import type { OrdersTables, StoredOrderLine } from "../store/tables.js";
import { fetchProducts } from "./inventory-prices.js";
import { OrderParams, type OrderView, OrderView as OrderViewSchema, PlaceOrderBody } from "./schemas.js";

function toOrderView(
  row: Pick<OrderRow, "id" | "status" | "items" | "total_amount">,
): Static<typeof OrderView> {
  return {
    id: row.id,
    status: row.status,
    items: row.items,
    total: { amount: row.total_amount, currency: "USD" },
  };
}

export function ordersRoutes(app: App, context: ServiceContext<OrdersTables>): void {
  app.post(
    "/api/orders",
    { schema: { body: PlaceOrderBody, response: { 202: OrderViewSchema } } },
    async (request, reply) => {
      const products = await fetchProducts(
        context.clients.get("inventory"),
        request.body.items.map((item) => item.productId),
      );
      const items: StoredOrderLine[] = request.body.items.map((item) => {
        const product = products.get(item.productId);
        if (!product) throw HttpProblem.of("unprocessable", `No product ${item.productId}`);
        return { productId: item.productId, quantity: item.quantity, unitPrice: product.price };
      });
      const total = orderTotal(items);
      const id = randomUUID();
      await context.transaction(async (trx) => {
        await insertOrder(trx, { id, items, totalAmount: total.amount });
        await context.outbox.add(trx, OrderPlaced, id, { orderId: id, items, total });
      });
      return reply.code(202).send(toOrderView({ id, status: "pending", items, total_amount: total.amount }));
    },
  );

  app.get(
    "/api/orders/:id",
    { schema: { params: OrderParams, response: { 200: OrderViewSchema } } },
    async (request) => {
      const row = await findOrder(context.db, request.params.id);
      if (!row) throw HttpProblem.of("notFound", `No order ${request.params.id}`);
      return toOrderView(row);
    },
  );
}
