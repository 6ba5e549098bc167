import { Type } from "@sinclair/typebox";
import { DEFAULT_HOLD_SECONDS } from "./domain/hold.js";

/** The environment variables inventory reads (resolved before it starts, handed to `context.settings`). */
export const inventorySettings = {
  INVENTORY_RESERVATION_HOLD_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 7 * 24 * 3600,
    default: DEFAULT_HOLD_SECONDS,
    description: "how long a reservation holds an order's stock before it expires",
  }),
};

export type InventorySettingsSchema = typeof inventorySettings;
