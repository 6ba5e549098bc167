/** How long a reservation holds stock when `INVENTORY_RESERVATION_HOLD_SECONDS` is unset: 15 minutes. */
export const DEFAULT_HOLD_SECONDS = 900;

/**
 * How often the expiry sweep runs: half the hold time, between 1 s and 60 s. Expiry does not
 * depend on the sweep (availability already ignores expired holds); the sweep only tidies up.
 */
export function sweepIntervalMs(holdSeconds: number): number {
  return Math.round(Math.min(60, Math.max(1, holdSeconds / 2)) * 1000);
}
