import type { ColumnType, Generated } from "kysely";

export interface StoredOrderLine {
  productId: string;
  quantity: number;
  unitPrice: { amount: number; currency: "USD" };
}

export interface OrdersTables {
  orders: {
    id: string;
    status: "pending" | "confirmed" | "cancelled";
    items: ColumnType<StoredOrderLine[], string, string>;
    total_amount: number;
    currency: string;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
  };
}
