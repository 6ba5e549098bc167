import type { Static } from "@sinclair/typebox";
import type { ProductRow } from "../store/products-store.js";
import type { ProductView } from "./schemas.js";

export function toProductView(row: ProductRow): Static<typeof ProductView> {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    category: row.category,
    price: { amount: row.price_amount, currency: "USD" },
    // Reservations arrive with the checkout saga (issue 3); until then all stock is available.
    available: row.stock,
  };
}
