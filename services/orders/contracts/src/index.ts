/**
 * The public contract of the orders service: the integration events it publishes (TypeBox
 * schemas, validated on publish and on receive). Other services import this package and nothing
 * else of orders.
 */
import { defineEvent } from "@blossom/event-contracts";
import { Type } from "@sinclair/typebox";

export const Money = Type.Object({
  amount: Type.Integer({ minimum: 0, description: "integer minor units (cents)" }),
  currency: Type.Literal("USD"),
});

export const OrderLine = Type.Object({
  productId: Type.String(),
  quantity: Type.Integer({ minimum: 1, maximum: 100 }),
  unitPrice: Money,
});

export const CancellationReason = Type.Union([
  Type.Literal("out_of_stock"),
  Type.Literal("payment_declined"),
  Type.Literal("timeout"),
  Type.Literal("cancelled_by_customer"),
]);

/**
 * When the checkout gives up on the order (its saga deadline): a step that arrives later does
 * not act (nothing reserved, nothing authorized), since orders cancels the order at that time
 * whatever the step would do. Optional: events written before it existed have none.
 */
export const SagaDeadline = Type.String({
  format: "date-time",
  description: "the order's checkout deadline; a step arriving after it does nothing",
});

/** Published when an order is accepted: starts the checkout saga (inventory reserves its lines). */
export const OrderPlaced = defineEvent(
  "orders.order-placed.v1",
  Type.Object({
    orderId: Type.String(),
    userId: Type.String(),
    items: Type.Array(OrderLine, { minItems: 1 }),
    total: Money,
    paymentMethodId: Type.String(),
    deadline: Type.Optional(SagaDeadline),
  }),
  "An order was placed and is pending; inventory should reserve its lines.",
);

/** The saga's command to payments, sent once stock is reserved. */
export const PaymentRequested = defineEvent(
  "orders.payment-requested.v1",
  Type.Object({
    orderId: Type.String(),
    userId: Type.String(),
    amount: Money,
    paymentMethodId: Type.String(),
    deadline: Type.Optional(SagaDeadline),
  }),
  "Stock is reserved; payments should authorize the amount on the payment method.",
);

/** The order is confirmed: inventory commits the reservation, payments captures, notifications tells the customer. */
export const OrderConfirmed = defineEvent(
  "orders.order-confirmed.v1",
  Type.Object({
    orderId: Type.String(),
    userId: Type.String(),
    items: Type.Array(OrderLine),
    total: Money,
  }),
  "The checkout succeeded.",
);

/**
 * The order is cancelled: inventory releases the reservation (or restocks committed stock),
 * payments voids an authorization or refunds a capture, notifications tells the customer.
 */
export const OrderCancelled = defineEvent(
  "orders.order-cancelled.v1",
  Type.Object({
    orderId: Type.String(),
    userId: Type.String(),
    items: Type.Array(OrderLine),
    total: Money,
    reason: CancellationReason,
    /** Whether the order had been confirmed (stock committed, payment captured) before. */
    wasConfirmed: Type.Boolean(),
  }),
  "The order was cancelled; compensate what was done for it.",
);

export const ordersEvents = [OrderPlaced, PaymentRequested, OrderConfirmed, OrderCancelled];
