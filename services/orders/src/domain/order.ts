/** The order model's vocabulary, shared by the rules, the store and the API. */
export interface OrderLine {
  productId: string;
  quantity: number;
  unitPrice: { amount: number; currency: "USD" };
}

export interface ShippingAddress {
  name: string;
  line1: string;
  city: string;
  postalCode: string;
  country: string;
}

export type OrderStatus = "pending" | "confirmed" | "cancelled";
export type SagaStep = "reserving" | "authorizing" | "done";
export type CancellationReason = "out_of_stock" | "payment_declined" | "timeout" | "cancelled_by_customer";
