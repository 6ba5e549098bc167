/**
 * The public contract of the payments service: the integration events it publishes (TypeBox
 * schemas, validated on publish and on receive). Other services import this package and nothing
 * else of payments.
 */
import { defineEvent } from "@blossom/event-contracts";
import { Type } from "@sinclair/typebox";

export const Money = Type.Object({ amount: Type.Integer({ minimum: 0 }), currency: Type.Literal("USD") });

/** The amount is held on the customer's card. Subject: the order id. */
export const PaymentAuthorized = defineEvent(
  "payments.payment-authorized.v1",
  Type.Object({ orderId: Type.String(), paymentId: Type.String(), amount: Money }),
  "The payment was authorized.",
);

/** The provider refused the payment. Subject: the order id. */
export const PaymentDeclined = defineEvent(
  "payments.payment-declined.v1",
  Type.Object({
    orderId: Type.String(),
    paymentId: Type.String(),
    reason: Type.Union([
      Type.Literal("declined"),
      Type.Literal("insufficient_funds"),
      Type.Literal("unknown_payment_method"),
      Type.Literal("provider_unavailable"),
    ]),
  }),
  "The payment was declined.",
);

/** The authorized amount was taken. Subject: the order id. */
export const PaymentCaptured = defineEvent(
  "payments.payment-captured.v1",
  Type.Object({ orderId: Type.String(), paymentId: Type.String(), amount: Money }),
  "The payment was captured.",
);

/** A captured payment was given back. Subject: the order id. */
export const PaymentRefunded = defineEvent(
  "payments.payment-refunded.v1",
  Type.Object({ orderId: Type.String(), paymentId: Type.String(), amount: Money }),
  "The payment was refunded.",
);

/** An authorization was released without capture. Subject: the order id. */
export const PaymentVoided = defineEvent(
  "payments.payment-voided.v1",
  Type.Object({ orderId: Type.String(), paymentId: Type.String() }),
  "The authorization was voided.",
);

export const paymentsEvents = [
  PaymentAuthorized,
  PaymentDeclined,
  PaymentCaptured,
  PaymentRefunded,
  PaymentVoided,
];
