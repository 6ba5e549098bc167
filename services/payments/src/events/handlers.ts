import { randomUUID } from "node:crypto";
import { type EventBinding, on } from "@blossom/host";
import { OrderPlaced } from "@blossom/orders/contracts";
import { openPayment } from "../store/payments-store.js";
import type { PaymentsTables } from "../store/tables.js";
import { PaymentCreated } from "./contracts.js";

/** Opens a pending payment for every placed order (authorization comes with the saga, issue 3). */
export const paymentsHandlers: EventBinding<PaymentsTables>[] = [
  on<PaymentsTables, typeof OrderPlaced.schema>(OrderPlaced, async ({ data, trx, context }) => {
    const id = randomUUID();
    await openPayment(trx, { id, orderId: data.orderId, amount: data.total.amount });
    await context.outbox.add(trx, PaymentCreated, data.orderId, {
      paymentId: id,
      orderId: data.orderId,
      amount: data.total,
    });
  }),
];
