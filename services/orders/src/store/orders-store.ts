import type { MessagingTables } from "@blossom/bus";
import type { Kysely, Selectable } from "kysely";
import type { OrdersTables, StoredOrderLine } from "./tables.js";

export type OrdersDb = Kysely<OrdersTables & MessagingTables>;
export type OrderRow = Selectable<OrdersTables["orders"]>;

export async function insertOrder(
  db: OrdersDb,
  order: { id: string; items: StoredOrderLine[]; totalAmount: number },
): Promise<void> {
  await db
    .insertInto("orders")
    .values({
      id: order.id,
      status: "pending",
      items: JSON.stringify(order.items),
      total_amount: order.totalAmount,
      currency: "USD",
    })
    .execute();
}

export async function findOrder(db: OrdersDb, id: string): Promise<OrderRow | undefined> {
  return db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirst();
}
