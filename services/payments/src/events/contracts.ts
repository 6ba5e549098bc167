import { defineEvent } from "@blossom/bus";
import { Type } from "@sinclair/typebox";

/** Published when a payment record is opened for an order. */
export const PaymentCreated = defineEvent(
  "payments.payment-created.v1",
  Type.Object({
    paymentId: Type.String(),
    orderId: Type.String(),
    amount: Type.Object({ amount: Type.Integer({ minimum: 0 }), currency: Type.Literal("USD") }),
  }),
  "A payment was opened for an order, awaiting authorization.",
);

export const paymentsEvents = [PaymentCreated];
