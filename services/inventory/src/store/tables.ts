import type { Generated } from "kysely";

export interface InventoryTables {
  products: {
    id: string;
    sku: string;
    name: string;
    description: string;
    category: string;
    price_amount: number;
    currency: string;
    stock: number;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
  };
}
