import { Type } from "@sinclair/typebox";
import { Money } from "../events/contracts.js";

export const ProductView = Type.Object({
  id: Type.String(),
  sku: Type.String(),
  name: Type.String(),
  description: Type.String(),
  category: Type.String(),
  price: Money,
  available: Type.Integer(),
});

export const CreateProductBody = Type.Object({
  sku: Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$" }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.String({ maxLength: 2000, default: "" }),
  category: Type.String({ minLength: 1, maxLength: 64 }),
  price: Money,
  stock: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
});

export const ListProductsQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200 })),
  category: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
});

export const ProductParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export const ProductPage = Type.Object({
  items: Type.Array(ProductView),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
