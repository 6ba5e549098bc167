import type { Static } from "@sinclair/typebox";
import type { ProductRecord } from "../store/products-store.js";
import type { AdminProductView, ProductView } from "./schemas.js";

export function toProductView(row: ProductRecord): Static<typeof ProductView> {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    category: row.category,
    price: { amount: row.price_amount, currency: "USD" },
    available: row.available,
  };
}

export function toAdminProductView(row: ProductRecord): Static<typeof AdminProductView> {
  return { ...toProductView(row), stock: row.stock, reserved: row.stock - row.available };
}
