import { sql } from "kysely";
import type { NotificationsDb } from "./db.js";

/**
 * Remembers whose order an order id is, and whether its cancellation notice already announced a
 * refund (payment events name only the order).
 */
export async function rememberOrder(
  db: NotificationsDb,
  order: { orderId: string; userId: string; refundAnnounced: boolean },
): Promise<void> {
  await db
    .insertInto("known_orders")
    .values({ order_id: order.orderId, user_id: order.userId, refund_announced: order.refundAnnounced })
    .onConflict((conflict) =>
      conflict.column("order_id").doUpdateSet({
        refund_announced: sql<boolean>`known_orders.refund_announced or excluded.refund_announced`,
      }),
    )
    .execute();
}

export async function findOrder(
  db: NotificationsDb,
  orderId: string,
): Promise<{ userId: string; refundAnnounced: boolean } | undefined> {
  const row = await db
    .selectFrom("known_orders")
    .select(["user_id", "refund_announced"])
    .where("order_id", "=", orderId)
    .executeTakeFirst();
  return row && { userId: row.user_id, refundAnnounced: row.refund_announced };
}
