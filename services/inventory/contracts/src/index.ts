/**
 * The public contract of the inventory service: the integration events it publishes (TypeBox
 * schemas, validated on publish and on receive). Other services import this package and nothing
 * else of inventory.
 */
import { defineEvent } from "@blossom/event-contracts";
import { Type } from "@sinclair/typebox";

export const Money = Type.Object({
  amount: Type.Integer({ minimum: 0, description: "integer minor units (cents)" }),
  currency: Type.Literal("USD"),
});

/** Published when a product enters the catalog. */
export const ProductCreated = defineEvent(
  "inventory.product-created.v1",
  Type.Object({
    productId: Type.String(),
    sku: Type.String(),
    name: Type.String(),
    category: Type.String(),
    price: Money,
    stock: Type.Integer({ minimum: 0 }),
  }),
  "A product was added to the catalog.",
);

/** Every line of an order is reserved (all or nothing) until `expiresAt`. Subject: the order id. */
export const StockReserved = defineEvent(
  "inventory.stock-reserved.v1",
  Type.Object({
    orderId: Type.String(),
    items: Type.Array(Type.Object({ productId: Type.String(), quantity: Type.Integer({ minimum: 1 }) })),
    expiresAt: Type.String({ format: "date-time" }),
  }),
  "Stock for every line of the order is held.",
);

/** The order cannot be reserved: nothing was held. Subject: the order id. */
export const StockRejected = defineEvent(
  "inventory.stock-rejected.v1",
  Type.Object({
    orderId: Type.String(),
    reason: Type.Literal("out_of_stock"),
    productIds: Type.Array(Type.String()),
  }),
  "At least one line could not be reserved; nothing is held.",
);

export const inventoryEvents = [ProductCreated, StockReserved, StockRejected];
