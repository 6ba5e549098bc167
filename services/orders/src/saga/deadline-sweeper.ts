import type { BackgroundTask, ServiceContext } from "@blossom/host";
import { sagaMetrics } from "@blossom/telemetry";
import { publishCancelled } from "../events/saga-events.js";
import { cancelOrder, overdueOrders } from "../store/orders-store.js";
import type { OrdersTables } from "../store/tables.js";
import { pendingOrderWatch } from "./pending-order-watch.js";

/**
 * Cancels, with reason "timeout", every pending order whose saga deadline passed (a step did
 * not answer: a service down, a message dead-lettered). The cancellation publishes
 * OrderCancelled, so whatever was reserved or authorized for the order is released. Each order
 * is cancelled in its own transaction under a row lock, so replicas sweeping at the same time
 * cancel it once.
 */
export function startDeadlineSweeper(
  context: ServiceContext<OrdersTables>,
  intervalMs: number,
): BackgroundTask {
  let stopped = false;
  let running: Promise<void> | undefined;
  // Registered now, so the saga series exist (at zero) from the first scrape.
  const saga = sagaMetrics(context.metrics);
  const sweep = async () => {
    for (const id of await overdueOrders(context.db, new Date(), 100)) {
      if (stopped) return;
      const cancelled = await context.transaction(async (trx) => {
        const result = await cancelOrder(trx, id, "timeout", ["pending"]);
        if (result) {
          context.logger.warn({ order_id: id }, "checkout deadline passed: order cancelled");
          await publishCancelled(context, trx, result.order, false);
        }
        return result;
      });
      if (cancelled) {
        saga.settled("timed_out", new Date(cancelled.order.created_at));
        pendingOrderWatch(context).settled(id);
      }
    }
  };
  const timer = setInterval(() => {
    if (running) return;
    running = sweep()
      .catch((error: unknown) => context.logger.error({ err: error }, "deadline sweep failed"))
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
