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
};

export type OrdersSettingsSchema = typeof ordersSettingsSchema;
