import type { ColumnType, Generated } from "kysely";
import type { ReservationStatus } from "../domain/reservation.js";

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
    /** Units held by active reservations; `CHECK (reserved >= 0 AND reserved <= stock)`. */
    reserved: Generated<number>;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
  };
  /** One row per order inventory has heard of: the per-order idempotency key of the saga. */
  reservations: {
    order_id: string;
    status: ReservationStatus;
    /** When an active reservation stops holding stock; null for orders never reserved. */
    expires_at: Date | null;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
  };
  reservation_lines: {
    order_id: string;
    product_id: string;
    quantity: number;
    /** Whether `quantity` is counted in the product's `reserved`. */
    held: boolean;
  };
  /** Admin writes, kept for the audit log. */
  admin_changes: {
    id: string;
    actor_id: string;
    action: string;
    product_id: string;
    details: ColumnType<unknown, string, never>;
    created_at: Generated<Date>;
  };
}
