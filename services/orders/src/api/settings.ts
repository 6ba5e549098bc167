import { Type } from "@sinclair/typebox";

/** The orders service's own environment variables (resolved before it starts, handed to `context.settings`). */
export const ordersSettingsSchema = {
  ORDERS_SAGA_DEADLINE_SECONDS: Type.Integer({
    minimum: 1,
    default: 30,
    description: "a checkout not confirmed or cancelled within this time is cancelled with reason timeout",
  }),
  ORDERS_SAGA_SWEEP_INTERVAL_MS: Type.Integer({
    minimum: 50,
    default: 1000,
    description: "how often overdue checkouts are looked for",
  }),
  ORDERS_MAX_PENDING_CHECKOUTS: Type.Integer({
    minimum: 1,
    maximum: 100000,
    default: 32,
    description:
      "checkouts that may be pending (placed, not yet confirmed or cancelled) at once, counted over every replica; past it POST /api/orders is answered 503 checkouts-shed with Retry-After before anything is written",
  }),
};

export type OrdersSettingsSchema = typeof ordersSettingsSchema;
