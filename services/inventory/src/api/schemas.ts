import { Type } from "@sinclair/typebox";
import { Money } from "../events/contracts.js";

const Sku = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$" });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const Description = Type.String({ maxLength: 2000 });
const Category = Type.String({ minLength: 1, maxLength: 64 });

/**
 * The highest price a product may have, in minor units: 1,000,000.00 USD. Below the column's
 * limit (a PostgreSQL `integer`: 2,147,483,647), where a larger price was a 500.
 */
export const MAX_PRICE_AMOUNT = 100_000_000;

/** A price as an admin sets it: `Money`, bounded (the contract's `Money` only says `>= 0`). */
const PriceInput = Type.Object({
  amount: Type.Integer({
    minimum: 0,
    maximum: MAX_PRICE_AMOUNT,
    description: "integer minor units (cents)",
  }),
  currency: Type.Literal("USD"),
});

/** A product as customers see it: `available` is stock minus what active reservations hold. */
export const ProductView = Type.Object({
  id: Type.String(),
  sku: Type.String(),
  name: Type.String(),
  description: Type.String(),
  category: Type.String(),
  price: Money,
  available: Type.Integer(),
});

/** What admin writes answer: the product view plus the stock and the units reserved. */
export const AdminProductView = Type.Composite([
  ProductView,
  Type.Object({ stock: Type.Integer(), reserved: Type.Integer() }),
]);

export const CreateProductBody = Type.Object({
  sku: Sku,
  name: Name,
  description: Type.Optional(Type.String({ maxLength: 2000, default: "" })),
  category: Category,
  price: PriceInput,
  stock: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
});

const UPDATABLE = ["name", "description", "category", "price"] as const;

/**
 * Descriptive fields and price; at least one of them. Stock changes go through `POST …/stock`,
 * and the SKU never changes: any other member is ignored, so a body of none of these four (say
 * `{"sku": …}` alone) is refused, as the document says (`anyOf` one of them present).
 */
export const UpdateProductBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    category: Type.Optional(Category),
    price: Type.Optional(PriceInput),
  },
  { anyOf: UPDATABLE.map((member) => ({ type: "object", required: [member] })) },
);

/** A stock correction: units added (positive) or removed (negative). */
export const AdjustStockBody = Type.Object({
  delta: Type.Integer({ minimum: -1_000_000, maximum: 1_000_000 }),
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

/** At most this many products per price query: an order has at most 50 lines. */
export const MAX_PRICE_IDS = 100;

/** `GET /internal/inventory/prices?ids=a,b,…`: product ids, comma-separated. */
export const PriceQuery = Type.Object({
  ids: Type.String({
    minLength: 1,
    maxLength: MAX_PRICE_IDS * 101,
    description: `comma-separated product ids (${MAX_PRICE_IDS} at most)`,
  }),
});

/** The current price of each known product asked for; unknown ids are left out. */
export const PriceList = Type.Object({
  items: Type.Array(Type.Object({ id: Type.String(), price: Money })),
});
