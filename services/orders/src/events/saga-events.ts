import type { ServiceContext } from "@blossom/host";
import type { Transaction } from "kysely";
import type { OrderRow, OrdersDb } from "../store/orders-store.js";
import type { OrdersTables } from "../store/tables.js";
import { OrderCancelled, OrderConfirmed } from "./contracts.js";

type Trx = Transaction<OrdersTables & import("@blossom/bus").MessagingTables>;

function money(amount: number) {
  return { amount, currency: "USD" as const };
}

/** Writes OrderConfirmed for a just-confirmed order, in the caller's transaction. */
export async function publishConfirmed(
  context: ServiceContext<OrdersTables>,
  trx: Trx | OrdersDb,
  order: OrderRow,
) {
  await context.outbox.add(trx, OrderConfirmed, order.id, {
    orderId: order.id,
    userId: order.user_id ?? "",
    items: order.items,
    total: money(order.total_amount),
  });
}

/** Writes OrderCancelled for a just-cancelled order: what the other services must compensate. */
export async function publishCancelled(
  context: ServiceContext<OrdersTables>,
  trx: Trx | OrdersDb,
  order: OrderRow,
  wasConfirmed: boolean,
) {
  await context.outbox.add(trx, OrderCancelled, order.id, {
    orderId: order.id,
    userId: order.user_id ?? "",
    items: order.items,
    total: money(order.total_amount),
    reason: (order.cancellation_reason ?? "timeout") as
      | "out_of_stock"
      | "payment_declined"
      | "timeout"
      | "cancelled_by_customer",
    wasConfirmed,
  });
}
