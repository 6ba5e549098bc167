import { sql } from "kysely";
import type { HeldLine, LineRequest } from "../domain/reservation.js";
import type { StockLevel } from "../domain/stock.js";
import type { InventoryDb } from "./products-store.js";

/**
 * Writes to stock and reservations, always in this order inside one transaction:
 *
 * 1. the order's `reservations` row (inserted or `SELECT … FOR UPDATE`), when there is one;
 * 2. every product row the transaction will touch, locked in one statement in id order
 *    (`lockProducts`);
 * 3. then counters and reservation lines of those products only.
 *
 * One lock order for everyone means no deadlocks; the product row lock serialises every change
 * of a product's `stock`, `reserved` and held lines, on PGlite (one connection) and on
 * PostgreSQL (READ COMMITTED, any number of replicas): the statements after the lock see what
 * the previous holder committed. The CHECK `0 <= reserved <= stock` stays as the last guard.
 */

/** Sums quantities per product. */
function perProduct(lines: readonly { product_id: string; quantity: number }[]): Map<string, number> {
  const sums = new Map<string, number>();
  for (const line of lines) sums.set(line.product_id, (sums.get(line.product_id) ?? 0) + line.quantity);
  return sums;
}

/**
 * Locks the rows of the products that exist among `ids` (`FOR UPDATE`, in id order), releases
 * the holds on them whose time has passed, and returns their stock levels. Unknown ids are
 * simply absent from the result.
 *
 * The locking read returns the levels too: under READ COMMITTED, `FOR UPDATE` waits for a
 * concurrent writer and then returns the row as that writer committed it, so no second read is
 * needed; the expired holds released here are taken off in memory, as they were in the table.
 */
export async function lockProducts(
  trx: InventoryDb,
  ids: readonly string[],
): Promise<Map<string, StockLevel>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const locked = await trx
    .selectFrom("products")
    .select(["id", "stock", "reserved"])
    .where("id", "in", unique)
    .orderBy("id")
    .forUpdate()
    .execute();
  if (locked.length === 0) return new Map();
  const released = await releaseExpiredHolds(
    trx,
    locked.map((row) => row.id),
  );
  return new Map(
    locked.map((row) => [row.id, { stock: row.stock, reserved: row.reserved - (released.get(row.id) ?? 0) }]),
  );
}

/**
 * Lazy expiry: the lines of active reservations past their `expires_at` on these (locked)
 * products stop being held, and the products' `reserved` goes down by their quantities. The
 * reservation itself is marked expired by the sweep (or handled as expired by a late confirm).
 * Returns the units released per product.
 */
async function releaseExpiredHolds(
  trx: InventoryDb,
  productIds: readonly string[],
): Promise<Map<string, number>> {
  const released = await trx
    .updateTable("reservation_lines")
    .set({ held: false })
    .where("held", "=", true)
    .where("product_id", "in", productIds)
    .where("order_id", "in", (eb) =>
      eb
        .selectFrom("reservations")
        .select("order_id")
        .where("status", "=", "active")
        .where("expires_at", "<=", sql<Date>`now()`),
    )
    .returning(["product_id", "quantity"])
    .execute();
  const quantities = perProduct(released);
  await unreserve(trx, quantities);
  return quantities;
}

/**
 * Releases every line still held by these orders (their products must be locked): `reserved`
 * goes down, the lines stop being held.
 */
export async function releaseHeldLines(trx: InventoryDb, orderIds: readonly string[]): Promise<void> {
  if (orderIds.length === 0) return;
  const released = await trx
    .updateTable("reservation_lines")
    .set({ held: false })
    .where("order_id", "in", orderIds)
    .where("held", "=", true)
    .returning(["product_id", "quantity"])
    .execute();
  await unreserve(trx, perProduct(released));
}

async function unreserve(trx: InventoryDb, quantities: ReadonlyMap<string, number>): Promise<void> {
  for (const [productId, quantity] of quantities) {
    await trx
      .updateTable("products")
      .set((eb) => ({ reserved: eb("reserved", "-", quantity), updated_at: sql`now()` }))
      .where("id", "=", productId)
      .execute();
  }
}

/**
 * Holds units of locked products for an order. The update is conditional on the units being
 * available, so even a caller that skipped the check could not oversell.
 */
export async function holdUnits(trx: InventoryDb, lines: readonly LineRequest[]): Promise<void> {
  for (const line of lines) {
    const held = await trx
      .updateTable("products")
      .set((eb) => ({ reserved: eb("reserved", "+", line.quantity), updated_at: sql`now()` }))
      .where("id", "=", line.productId)
      .where(sql<number>`stock - reserved`, ">=", line.quantity)
      .returning("id")
      .executeTakeFirst();
    if (!held) throw new Error(`product ${line.productId} no longer has ${line.quantity} units available`);
  }
}

/**
 * Takes the order's units out of stock: held units leave `reserved` and `stock` together; units
 * whose hold expired are taken from what is available now (conditional, so never oversold).
 */
export async function commitUnits(trx: InventoryDb, lines: readonly HeldLine[]): Promise<void> {
  for (const line of lines) {
    let query = trx
      .updateTable("products")
      .set((eb) => ({
        stock: eb("stock", "-", line.quantity),
        ...(line.held ? { reserved: eb("reserved", "-", line.quantity) } : {}),
        updated_at: sql`now()`,
      }))
      .where("id", "=", line.productId);
    if (!line.held) query = query.where(sql<number>`stock - reserved`, ">=", line.quantity);
    const committed = await query.returning("id").executeTakeFirst();
    if (!committed)
      throw new Error(`product ${line.productId} no longer has ${line.quantity} units to commit`);
  }
}

/** Puts committed units back into stock (a cancellation after confirmation). */
export async function restockUnits(trx: InventoryDb, lines: readonly LineRequest[]): Promise<void> {
  for (const line of lines) {
    await trx
      .updateTable("products")
      .set((eb) => ({ stock: eb("stock", "+", line.quantity), updated_at: sql`now()` }))
      .where("id", "=", line.productId)
      .execute();
  }
}

/** Sets a locked product's stock (an admin correction already checked against `reserved`). */
export async function setStock(trx: InventoryDb, productId: string, stock: number): Promise<void> {
  await trx
    .updateTable("products")
    .set({ stock, updated_at: sql`now()` })
    .where("id", "=", productId)
    .execute();
}
