/** How long a reservation holds stock when the setting is absent: 15 minutes. */
export const DEFAULT_HOLD_SECONDS = 900;

/**
 * The hold time from the service's settings (`INVENTORY_RESERVATION_HOLD_SECONDS`, validated
 * by the launcher); the default when absent or not a positive number.
 */
export function holdSecondsFrom(settings: Readonly<Record<string, unknown>>): number {
  const value = settings.INVENTORY_RESERVATION_HOLD_SECONDS;
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : DEFAULT_HOLD_SECONDS;
}

/**
 * How often the expiry sweep runs: half the hold time, between 1 s and 60 s. Expiry does not
 * depend on the sweep (availability already ignores expired holds); the sweep only tidies up.
 */
export function sweepIntervalMs(holdSeconds: number): number {
  return Math.round(Math.min(60, Math.max(1, holdSeconds / 2)) * 1000);
}
