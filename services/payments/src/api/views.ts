import type { Static } from "@sinclair/typebox";
import type { PaymentMethodRow } from "../store/methods-store.js";
import type { PaymentRow } from "../store/payments-store.js";
import type { PaymentMethodView, PaymentView } from "./schemas.js";

export function toPaymentMethodView(
  row: Pick<PaymentMethodRow, "id" | "brand" | "last4" | "exp_month" | "exp_year">,
): Static<typeof PaymentMethodView> {
  return { id: row.id, brand: row.brand, last4: row.last4, expMonth: row.exp_month, expYear: row.exp_year };
}

export function toPaymentView(row: PaymentRow): Static<typeof PaymentView> {
  return {
    id: row.id,
    orderId: row.order_id,
    userId: row.user_id,
    paymentMethodId: row.payment_method_id,
    amount: { amount: row.amount, currency: "USD" },
    status: row.status,
    declineReason: row.decline_reason,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
