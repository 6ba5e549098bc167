import { defineEvent } from "@blossom/bus";
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

export const inventoryEvents = [ProductCreated];
