import type { Generated } from "kysely";

export interface PaymentsTables {
  payments: {
    id: string;
    order_id: string;
    amount: number;
    currency: string;
    status: "pending" | "authorized" | "captured" | "declined" | "refunded" | "voided";
    created_at: Generated<Date>;
  };
}
