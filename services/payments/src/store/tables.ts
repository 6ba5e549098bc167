import type { Generated } from "kysely";
import type { CardBrand } from "../domain/card.js";
import type { DeclineReason, PaymentStatus } from "../domain/payment-state.js";

export interface PaymentsTables {
  /** A customer's saved cards: only what is safe to keep (never the number, never the cvc). */
  payment_methods: {
    id: string;
    user_id: string;
    /** The provider that issued `token`. */
    provider: string;
    /** The provider's opaque reference to the card. */
    token: string;
    brand: CardBrand;
    last4: string;
    exp_month: number;
    exp_year: number;
    created_at: Date;
  };
  /** Idempotency-Key of POST /api/payments/methods, per user. */
  payment_method_requests: {
    user_id: string;
    idempotency_key: string;
    /** Keyed HMAC of the request (see domain/idempotency.ts); not reversible without the key. */
    fingerprint: string;
    payment_method_id: string;
    created_at: Generated<Date>;
  };
  /** One payment per order. */
  payments: {
    id: string;
    order_id: string;
    user_id: string;
    payment_method_id: string;
    provider: string;
    amount: number;
    currency: string;
    status: PaymentStatus;
    decline_reason: DeclineReason | null;
    authorization_id: string | null;
    capture_id: string | null;
    refund_id: string | null;
    void_id: string | null;
    created_at: Date;
    updated_at: Date;
  };
  /** Orders cancelled, kept so that a late PaymentRequested never charges. */
  cancelled_orders: {
    order_id: string;
    user_id: string;
    reason: string;
    cancelled_at: Generated<Date>;
  };
}
