import type { MessagingTables } from "@blossom/bus";
import type { Insertable, Kysely, Selectable, Updateable } from "kysely";
import type { PaymentsTables } from "./tables.js";

export type PaymentsDb = Kysely<PaymentsTables & MessagingTables>;
export type PaymentRow = Selectable<PaymentsTables["payments"]>;

/** The order's payment, locked until the transaction ends (so concurrent handlers queue up). */
export async function paymentOfOrderForUpdate(
  db: PaymentsDb,
  orderId: string,
): Promise<PaymentRow | undefined> {
  return db.selectFrom("payments").selectAll().where("order_id", "=", orderId).forUpdate().executeTakeFirst();
}

export async function insertPayment(
  db: PaymentsDb,
  row: Insertable<PaymentsTables["payments"]>,
): Promise<void> {
  await db.insertInto("payments").values(row).execute();
}

export async function updatePayment(
  db: PaymentsDb,
  id: string,
  changes: Updateable<PaymentsTables["payments"]>,
): Promise<void> {
  await db.updateTable("payments").set(changes).where("id", "=", id).execute();
}

export async function paymentsOfOrder(db: PaymentsDb, orderId: string): Promise<PaymentRow[]> {
  return db
    .selectFrom("payments")
    .selectAll()
    .where("order_id", "=", orderId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

/** Records that the order is cancelled; false when it already was. */
export async function recordCancellation(
  db: PaymentsDb,
  cancellation: { orderId: string; userId: string; reason: string },
): Promise<boolean> {
  const inserted = await db
    .insertInto("cancelled_orders")
    .values({ order_id: cancellation.orderId, user_id: cancellation.userId, reason: cancellation.reason })
    .onConflict((conflict) => conflict.column("order_id").doNothing())
    .returning("order_id")
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function isCancelled(db: PaymentsDb, orderId: string): Promise<boolean> {
  const row = await db
    .selectFrom("cancelled_orders")
    .select("order_id")
    .where("order_id", "=", orderId)
    .executeTakeFirst();
  return row !== undefined;
}
