import { defineEvent } from "@blossom/bus";
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

/** Published when an order is accepted; starts the checkout. */
export const OrderPlaced = defineEvent(
  "orders.order-placed.v1",
  Type.Object({
    orderId: Type.String(),
    items: Type.Array(OrderLine, { minItems: 1 }),
    total: Money,
  }),
  "An order was placed and is pending.",
);

export const ordersEvents = [OrderPlaced];
