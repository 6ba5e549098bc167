import { sql } from "kysely";
import type { HeldLine, LineRequest, ReservationStatus } from "../domain/reservation.js";
import type { InventoryDb } from "./products-store.js";
import { lockProducts, releaseHeldLines } from "./stock-store.js";

export interface ReservationRecord {
  orderId: string;
  status: ReservationStatus;
  expiresAt: Date | null;
}

/**
 * Claims an order for its first OrderPlaced: inserts its reservation row, or returns false if
 * the order is already known (reserved, rejected, or cancelled before it was placed). The row
 * starts as `rejected` and becomes `active` in the same transaction if every line is held, so
 * no one ever sees it half done. A concurrent claim of the same order waits on the primary key
 * and then finds it taken.
 */
export async function claimOrder(trx: InventoryDb, orderId: string): Promise<boolean> {
  const claimed = await trx
    .insertInto("reservations")
    .values({ order_id: orderId, status: "rejected", expires_at: null })
    .onConflict((conflict) => conflict.column("order_id").doNothing())
    .returning("order_id")
    .executeTakeFirst();
  return claimed !== undefined;
}

/**
 * Records that the order was cancelled before inventory heard of it, so that a late OrderPlaced
 * reserves nothing. False if the order is already known (nothing written).
 */
export async function recordCancelledOrder(trx: InventoryDb, orderId: string): Promise<boolean> {
  const recorded = await trx
    .insertInto("reservations")
    .values({ order_id: orderId, status: "cancelled", expires_at: null })
    .onConflict((conflict) => conflict.column("order_id").doNothing())
    .returning("order_id")
    .executeTakeFirst();
  return recorded !== undefined;
}

/** The order's reservation, locked for the rest of the transaction. */
export async function lockReservation(
  trx: InventoryDb,
  orderId: string,
): Promise<ReservationRecord | undefined> {
  const row = await trx
    .selectFrom("reservations")
    .select(["order_id", "status", "expires_at"])
    .where("order_id", "=", orderId)
    .forUpdate()
    .executeTakeFirst();
  return row && { orderId: row.order_id, status: row.status, expiresAt: row.expires_at };
}

/** Records the held lines and makes a claimed reservation active; returns when its hold ends. */
export async function activateReservation(
  trx: InventoryDb,
  orderId: string,
  lines: readonly LineRequest[],
  holdSeconds: number,
): Promise<Date> {
  await trx
    .insertInto("reservation_lines")
    .values(
      lines.map((line) => ({
        order_id: orderId,
        product_id: line.productId,
        quantity: line.quantity,
        held: true,
      })),
    )
    .execute();
  // The database's clock decides expiry everywhere (now() here, in the sweep and in reads), so
  // replicas with skewed clocks still agree.
  const { expires_at } = await trx
    .updateTable("reservations")
    .set({
      status: "active",
      expires_at: sql<Date>`now() + make_interval(secs => ${holdSeconds})`,
      updated_at: sql`now()`,
    })
    .where("order_id", "=", orderId)
    .returning("expires_at")
    .executeTakeFirstOrThrow();
  if (!expires_at) throw new Error(`reservation ${orderId} has no expiry`);
  return expires_at;
}

export async function reservationLines(trx: InventoryDb, orderId: string): Promise<HeldLine[]> {
  const rows = await trx
    .selectFrom("reservation_lines")
    .select(["product_id", "quantity", "held"])
    .where("order_id", "=", orderId)
    .orderBy("product_id")
    .execute();
  return rows.map((row) => ({ productId: row.product_id, quantity: row.quantity, held: row.held }));
}

export async function setReservationStatus(
  trx: InventoryDb,
  orderId: string,
  status: ReservationStatus,
): Promise<void> {
  await trx
    .updateTable("reservations")
    .set({ status, updated_at: sql`now()` })
    .where("order_id", "=", orderId)
    .execute();
}

/** Marks every line of the order as not held (after its units were committed). */
export async function unholdLines(trx: InventoryDb, orderId: string): Promise<void> {
  await trx.updateTable("reservation_lines").set({ held: false }).where("order_id", "=", orderId).execute();
}

/**
 * The expiry sweep: marks up to `batchSize` active reservations past their hold as expired and
 * releases what they still hold. Reads do not need it (expired holds already do not count), so
 * it is housekeeping: `reserved` and the reservation statuses catch up with the clock. Rows
 * locked by a handler are skipped (SKIP LOCKED), so replicas sweeping at once do not queue up.
 * Returns how many reservations expired.
 */
export async function expireReservations(db: InventoryDb, batchSize = 100): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const due = await trx
      .selectFrom("reservations")
      .select("order_id")
      .where("status", "=", "active")
      .where("expires_at", "<=", sql<Date>`now()`)
      .orderBy("expires_at")
      .orderBy("order_id")
      .limit(batchSize)
      .forUpdate()
      .skipLocked()
      .execute();
    const orderIds = due.map((row) => row.order_id);
    if (orderIds.length === 0) return 0;
    const products = await trx
      .selectFrom("reservation_lines")
      .select("product_id")
      .distinct()
      .where("order_id", "in", orderIds)
      .where("held", "=", true)
      .execute();
    await lockProducts(
      trx,
      products.map((row) => row.product_id),
    );
    await releaseHeldLines(trx, orderIds);
    await trx
      .updateTable("reservations")
      .set({ status: "expired", updated_at: sql`now()` })
      .where("order_id", "in", orderIds)
      .execute();
    return orderIds.length;
  });
}
