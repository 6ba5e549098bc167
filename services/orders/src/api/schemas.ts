import { Type } from "@sinclair/typebox";
import { Money, OrderLine } from "../events/contracts.js";

export const PlaceOrderBody = Type.Object({
  items: Type.Array(
    Type.Object({
      productId: Type.String({ minLength: 1, maxLength: 100 }),
      quantity: Type.Integer({ minimum: 1, maximum: 100 }),
    }),
    { minItems: 1, maxItems: 50 },
  ),
});

export const OrderStatus = Type.Union([
  Type.Literal("pending"),
  Type.Literal("confirmed"),
  Type.Literal("cancelled"),
]);

export const OrderView = Type.Object({
  id: Type.String(),
  status: OrderStatus,
  items: Type.Array(OrderLine),
  total: Money,
});

export const OrderParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
