import { type EventBinding, on } from "@blossom/host";
import { OrderCancelled, OrderConfirmed, OrderPlaced } from "@blossom/orders-contracts";
import { reservationMetrics } from "@blossom/telemetry";
import {
  cancelAction,
  confirmAction,
  mergeLines,
  planCommit,
  planReservation,
  statusAfterCancel,
} from "../domain/reservation.js";
import type { InventorySettingsSchema } from "../settings.js";
import {
  activateReservation,
  claimOrder,
  lockReservation,
  recordCancelledOrder,
  reservationLines,
  setReservationStatus,
  unholdLines,
} from "../store/reservations-store.js";
import {
  commitUnits,
  holdUnits,
  lockProducts,
  releaseHeldLines,
  restockUnits,
} from "../store/stock-store.js";
import type { InventoryTables } from "../store/tables.js";
import { StockRejected, StockReserved } from "./contracts.js";

/**
 * The inventory side of the checkout saga. Each handler runs inside the inbox transaction (one
 * effect per event id) and is idempotent per order as well: the order's `reservations` row
 * says what was already done, so a second OrderPlaced for an order (another event id) reserves
 * nothing and a repeated confirm or cancel changes nothing. See stock-store.ts for the locking.
 */
export const inventoryHandlers: EventBinding<InventoryTables, InventorySettingsSchema>[] = [
  on<InventoryTables, typeof OrderPlaced.schema, InventorySettingsSchema>(
    OrderPlaced,
    async ({ data, trx, context, afterCommit }) => {
      const { orderId } = data;
      // Orders cancels the order at its deadline whatever happens here: reserving now would only
      // hold stock until that cancellation released it. The cancellation leaves a tombstone.
      if (data.deadline !== undefined && Date.parse(data.deadline) <= Date.now()) {
        context.logger.info(
          { order_id: orderId },
          "order placed past its checkout deadline: nothing reserved",
        );
        return;
      }
      if (!(await claimOrder(trx, orderId))) {
        context.logger.info({ order_id: orderId }, "order already known: nothing to reserve");
        return;
      }
      const lines = mergeLines(data.items);
      const levels = await lockProducts(
        trx,
        lines.map((line) => line.productId),
      );
      const plan = planReservation(lines, levels);
      if (plan.outcome === "reject") {
        // The claimed row stays `rejected`: nothing is held.
        await context.outbox.add(trx, StockRejected, orderId, {
          orderId,
          reason: "out_of_stock",
          productIds: plan.productIds,
        });
        afterCommit(() => reservationMetrics(context.metrics).recorded("rejected"));
        return;
      }
      await holdUnits(trx, plan.lines);
      const holdSeconds = context.settings.INVENTORY_RESERVATION_HOLD_SECONDS;
      const expiresAt = await activateReservation(trx, orderId, plan.lines, holdSeconds);
      await context.outbox.add(trx, StockReserved, orderId, {
        orderId,
        items: plan.lines,
        expiresAt: expiresAt.toISOString(),
      });
      afterCommit(() => reservationMetrics(context.metrics).recorded("reserved"));
    },
  ),

  on<InventoryTables, typeof OrderConfirmed.schema>(
    OrderConfirmed,
    async ({ data, trx, context, afterCommit }) => {
      const { orderId } = data;
      const reservation = await lockReservation(trx, orderId);
      // Events of one order arrive in order, so this is an anomaly: failing asks for a redelivery
      // (the OrderPlaced may still be on its way) and, if it never comes, a dead letter to look at.
      if (!reservation) throw new Error(`order ${orderId} was confirmed but inventory never reserved it`);
      const action = confirmAction(reservation.status);
      if (action !== "commit") {
        if (action === "ignore") {
          context.logger.warn(
            { order_id: orderId, status: reservation.status },
            "order confirmed but its reservation cannot be committed: ignored",
          );
        }
        return;
      }
      const productIds = (await reservationLines(trx, orderId)).map((line) => line.productId);
      const levels = await lockProducts(trx, productIds);
      // Read again under the locks: a hold that expired was released while locking.
      const lines = await reservationLines(trx, orderId);
      const plan = planCommit(lines, levels);
      if (plan.outcome === "shortfall") {
        await releaseHeldLines(trx, [orderId]);
        await setReservationStatus(trx, orderId, "expired");
        context.logger.error(
          { order_id: orderId, product_ids: plan.productIds },
          "order confirmed after its hold expired, and the stock went to other orders: nothing committed",
        );
        afterCommit(() => reservationMetrics(context.metrics).recorded("expired"));
        return;
      }
      await commitUnits(trx, lines);
      await unholdLines(trx, orderId);
      await setReservationStatus(trx, orderId, "committed");
      afterCommit(() => reservationMetrics(context.metrics).recorded("committed"));
    },
  ),

  on<InventoryTables, typeof OrderCancelled.schema>(
    OrderCancelled,
    async ({ data, trx, context, afterCommit }) => {
      const { orderId, wasConfirmed } = data;
      if (await recordCancelledOrder(trx, orderId)) {
        context.logger.info(
          { order_id: orderId },
          "order cancelled before it was reserved: tombstone recorded",
        );
        return;
      }
      const reservation = await lockReservation(trx, orderId);
      const action = cancelAction(reservation?.status);
      if (action !== "release" && action !== "restock") return;
      if (wasConfirmed !== (action === "restock")) {
        context.logger.warn(
          { order_id: orderId, status: reservation?.status, was_confirmed: wasConfirmed },
          "cancellation disagrees with the recorded reservation: acting on the reservation",
        );
      }
      const lines = await reservationLines(trx, orderId);
      await lockProducts(
        trx,
        lines.map((line) => line.productId),
      );
      if (action === "release") await releaseHeldLines(trx, [orderId]);
      else await restockUnits(trx, lines);
      await setReservationStatus(trx, orderId, statusAfterCancel(action));
      afterCommit(() =>
        reservationMetrics(context.metrics).recorded(action === "release" ? "released" : "restocked"),
      );
    },
  ),
];
