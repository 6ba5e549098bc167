import type { BackgroundTask, ServiceContext } from "@blossom/host";
import { reservationMetrics } from "@blossom/telemetry";
import { sweepIntervalMs } from "./domain/hold.js";
import type { InventorySettingsSchema } from "./settings.js";
import { expireReservations } from "./store/reservations-store.js";
import type { InventoryTables } from "./store/tables.js";

/**
 * Runs the expiry sweep (`expireReservations`) every few seconds while the service runs, until
 * stopped (the host stops it when the service stops accepting requests). Expiry is correct
 * without it (availability already ignores holds past their time, and the next write to a
 * product releases them); the sweep brings statuses and `reserved` up to date for products
 * nobody touches.
 */
export function startExpirySweep(
  context: ServiceContext<InventoryTables, InventorySettingsSchema>,
): BackgroundTask {
  const interval = sweepIntervalMs(context.settings.INVENTORY_RESERVATION_HOLD_SECONDS);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  // Registered now, so the reservation series exist (at zero) from the first scrape.
  const reservations = reservationMetrics(context.metrics);

  const sweep = async () => {
    try {
      let expired = 0;
      for (
        let batch = await expireReservations(context.db);
        batch > 0;
        batch = await expireReservations(context.db)
      ) {
        expired += batch;
        reservations.recorded("expired", batch);
        if (stopped) break;
      }
      if (expired > 0) context.logger.info({ reservations: expired }, "expired reservations released");
    } catch (error) {
      context.logger.warn({ err: error }, "expiry sweep failed; it runs again later");
    }
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = sweep().finally(() => {
        running = undefined;
        schedule();
      });
    }, interval);
    // The sweep must not keep a process alive on its own.
    timer.unref();
  };

  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
