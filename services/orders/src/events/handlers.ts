import { type EventBinding, on } from "@blossom/host";
import { StockRejected, StockReserved } from "@blossom/inventory-contracts";
import { PaymentAuthorized, PaymentDeclined } from "@blossom/payments-contracts";
import { sagaMetrics } from "@blossom/telemetry";
import { SAGA } from "../domain/order-rules.js";
import { pendingOrderWatch } from "../saga/pending-order-watch.js";
import { advance, cancelOrder } from "../store/orders-store.js";
import type { OrdersTables } from "../store/tables.js";
import { PaymentRequested } from "./contracts.js";
import { publishCancelled, publishConfirmed } from "./saga-events.js";

/**
 * The checkout saga, orchestrated here: each reply from inventory or payments moves the order
 * one guarded step, in the same transaction as the next command or outcome event (outbox) and
 * the inbox record. A reply that finds the order elsewhere (cancelled by the deadline, already
 * handled) changes nothing; what it did elsewhere is compensated by the OrderCancelled that
 * the cancellation published.
 */
export const ordersHandlers: EventBinding<OrdersTables>[] = [
  on<OrdersTables, typeof StockReserved.schema>(
    StockReserved,
    async ({ data, trx, context, afterCommit }) => {
      const order = await advance(trx, data.orderId, SAGA.stockReserved.from, SAGA.stockReserved.to);
      if (!order) return;
      // A page following the checkout step by step (If-None-Match + Prefer: wait) hears it at once.
      afterCommit(() => pendingOrderWatch(context).stepped(order.id));
      await context.outbox.add(trx, PaymentRequested, order.id, {
        orderId: order.id,
        userId: order.user_id ?? "",
        amount: { amount: order.total_amount, currency: "USD" },
        paymentMethodId: order.payment_method_id ?? "",
        ...(order.deadline ? { deadline: order.deadline.toISOString() } : {}),
      });
    },
  ),
  on<OrdersTables, typeof StockRejected.schema>(
    StockRejected,
    async ({ data, trx, context, afterCommit }) => {
      const cancelled = await cancelOrder(trx, data.orderId, "out_of_stock", ["pending"]);
      if (!cancelled) return;
      await publishCancelled(context, trx, cancelled.order, false);
      afterCommit(() => {
        sagaMetrics(context.metrics).settled("cancelled", new Date(cancelled.order.created_at));
        pendingOrderWatch(context).settled(cancelled.order.id);
      });
    },
  ),
  on<OrdersTables, typeof PaymentAuthorized.schema>(
    PaymentAuthorized,
    async ({ data, trx, context, afterCommit }) => {
      const order = await advance(trx, data.orderId, SAGA.paymentAuthorized.from, SAGA.paymentAuthorized.to);
      if (!order) return;
      await publishConfirmed(context, trx, order);
      afterCommit(() => {
        sagaMetrics(context.metrics).settled("confirmed", new Date(order.created_at));
        pendingOrderWatch(context).settled(order.id);
      });
    },
  ),
  on<OrdersTables, typeof PaymentDeclined.schema>(
    PaymentDeclined,
    async ({ data, trx, context, afterCommit }) => {
      const cancelled = await cancelOrder(trx, data.orderId, "payment_declined", ["pending"]);
      if (!cancelled) return;
      await publishCancelled(context, trx, cancelled.order, false);
      afterCommit(() => {
        sagaMetrics(context.metrics).settled("cancelled", new Date(cancelled.order.created_at));
        pendingOrderWatch(context).settled(cancelled.order.id);
      });
    },
  ),
];
