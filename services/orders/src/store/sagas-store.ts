import type { HistoryEntry, OrderRow, OrdersDb } from "./orders-store.js";
import type { OrderStatus } from "./tables.js";

/** How many orders are in each status, and how many pending ones are past their saga deadline. */
export async function sagaCounts(
  db: OrdersDb,
  now: Date,
): Promise<Record<OrderStatus, number> & { overdue: number }> {
  const rows = await db
    .selectFrom("orders")
    .select((eb) => [
      "status",
      eb.fn.countAll<number>().as("count"),
      eb.fn.count<number>(eb.case().when("deadline", "<", now).then(1).end()).as("overdue"),
    ])
    .groupBy("status")
    .execute();
  const counts = { pending: 0, confirmed: 0, cancelled: 0, overdue: 0 };
  for (const row of rows) {
    counts[row.status] = Number(row.count);
    if (row.status === "pending") counts.overdue = Number(row.overdue);
  }
  return counts;
}

/**
 * A page of every customer's orders for the saga view, newest first (`after`: the last row of the
 * previous page); `overdue` keeps the pending orders past their deadline only.
 */
export async function listSagas(
  db: OrdersDb,
  filter: {
    status?: OrderStatus | undefined;
    overdueAt?: Date | undefined;
    limit: number;
    after?: { createdAt: Date; id: string } | undefined;
  },
): Promise<OrderRow[]> {
  let query = db
    .selectFrom("orders")
    .selectAll()
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(filter.limit + 1);
  if (filter.status) query = query.where("status", "=", filter.status);
  if (filter.overdueAt)
    query = query.where("status", "=", "pending").where("deadline", "<", filter.overdueAt);
  const after = filter.after;
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb("created_at", "<", after.createdAt),
        eb.and([eb("created_at", "=", after.createdAt), eb("id", "<", after.id)]),
      ]),
    );
  }
  return query.execute();
}

/** The status histories of several orders, in one query, each oldest first. */
export async function historiesOf(db: OrdersDb, ids: string[]): Promise<Map<string, HistoryEntry[]>> {
  const histories = new Map<string, HistoryEntry[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return histories;
  const rows = await db
    .selectFrom("order_history")
    .select(["order_id", "status", "at"])
    .where("order_id", "in", ids)
    .orderBy("id")
    .execute();
  for (const row of rows) histories.get(row.order_id)?.push({ status: row.status, at: row.at });
  return histories;
}
