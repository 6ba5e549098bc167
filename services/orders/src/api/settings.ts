import type { ServiceContext } from "@blossom/host";
import { Type } from "@sinclair/typebox";

/** The orders service's own environment variables. */
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

export interface OrdersSettings {
  deadlineSeconds: number;
  sweepIntervalMs: number;
}

export function ordersSettings(context: { settings: Readonly<Record<string, unknown>> }): OrdersSettings {
  return {
    deadlineSeconds: Number(context.settings.ORDERS_SAGA_DEADLINE_SECONDS ?? 30),
    sweepIntervalMs: Number(context.settings.ORDERS_SAGA_SWEEP_INTERVAL_MS ?? 1000),
  };
}

export type { ServiceContext };
