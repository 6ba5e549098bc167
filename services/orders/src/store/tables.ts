import type { ColumnType, Generated } from "kysely";

import type { OrderLine, OrderStatus, SagaStep, ShippingAddress } from "../domain/order.js";

export type { OrderStatus, SagaStep, ShippingAddress };
export type StoredOrderLine = OrderLine;

export interface OrdersTables {
  orders: {
    id: string;
    status: OrderStatus;
    items: ColumnType<StoredOrderLine[], string, string>;
    total_amount: number;
    currency: string;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
    user_id: string | null;
    payment_method_id: string | null;
    shipping_address: ColumnType<ShippingAddress | null, string | null, string | null>;
    idempotency_key: string | null;
    request_hash: string | null;
    cancellation_reason: string | null;
    saga_step: SagaStep | null;
    deadline: Date | null;
  };
  order_history: {
    id: Generated<number>;
    order_id: string;
    status: OrderStatus;
    at: Generated<Date>;
  };
}
