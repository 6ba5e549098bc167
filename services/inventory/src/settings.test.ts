import { resolveSettings } from "@blossom/host";
import { describe, expect, it } from "vitest";
import { DEFAULT_HOLD_SECONDS } from "./domain/hold.js";
import { inventoryService } from "./service.js";

describe("inventory settings", () => {
  const hold = (raw: Record<string, unknown>) =>
    resolveSettings(inventoryService.settings, raw).INVENTORY_RESERVATION_HOLD_SECONDS;

  it("holds stock for INVENTORY_RESERVATION_HOLD_SECONDS, 900 s by default", () => {
    expect(hold({ INVENTORY_RESERVATION_HOLD_SECONDS: "60" })).toBe(60);
    expect(hold({})).toBe(DEFAULT_HOLD_SECONDS);
  });

  it("refuses a hold of no time", () => {
    expect(() => hold({ INVENTORY_RESERVATION_HOLD_SECONDS: 0 })).toThrow(
      /INVENTORY_RESERVATION_HOLD_SECONDS/,
    );
  });
});
