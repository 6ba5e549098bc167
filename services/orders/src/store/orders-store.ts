import type { MessagingTables } from "@blossom/bus";
import type { Kysely, QueryCreator, Selectable } from "kysely";
import type { CancellationReason } from "../domain/order-rules.js";
import type { OrderStatus, OrdersTables, SagaStep, ShippingAddress, StoredOrderLine } from "./tables.js";

export type OrdersDb = Kysely<OrdersTables & MessagingTables>;
export type OrderRow = Selectable<OrdersTables["orders"]>;
export interface HistoryEntry {
  status: OrderStatus;
  at: Date;
}

export interface NewOrder {
  id: string;
  userId: string;
  items: StoredOrderLine[];
  totalAmount: number;
  paymentMethodId: string;
  shippingAddress: ShippingAddress;
  idempotencyKey: string;
  requestHash: string;
  deadline: Date;
}

/**
 * Inserts a pending order and its first history entry, in one statement (a data-modifying CTE:
 * one trip instead of two inside the placing transaction); returns the stored row.
 */
export async function insertOrder(db: OrdersDb, order: NewOrder): Promise<OrderRow> {
  return db
    .with("inserted", (query) =>
      query
        .insertInto("orders")
        .values({
          id: order.id,
          status: "pending",
          items: JSON.stringify(order.items),
          total_amount: order.totalAmount,
          currency: "USD",
          user_id: order.userId,
          payment_method_id: order.paymentMethodId,
          shipping_address: JSON.stringify(order.shippingAddress),
          idempotency_key: order.idempotencyKey,
          request_hash: order.requestHash,
          saga_step: "reserving",
          deadline: order.deadline,
          cancellation_reason: null,
        })
        .returningAll(),
    )
    .with("recorded", (query) =>
      query
        .insertInto("order_history")
        .columns(["order_id", "status"])
        .expression((eb) => eb.selectFrom("inserted").select(["inserted.id as order_id", "inserted.status"])),
    )
    .selectFrom("inserted")
    .selectAll()
    .executeTakeFirstOrThrow();
}

export async function findOrder(db: OrdersDb, id: string): Promise<OrderRow | undefined> {
  return db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function findByIdempotencyKey(
  db: OrdersDb,
  userId: string,
  key: string,
): Promise<OrderRow | undefined> {
  return db
    .selectFrom("orders")
    .selectAll()
    .where("user_id", "=", userId)
    .where("idempotency_key", "=", key)
    .executeTakeFirst();
}

export async function orderHistory(db: OrdersDb, orderId: string): Promise<HistoryEntry[]> {
  return db
    .selectFrom("order_history")
    .select(["status", "at"])
    .where("order_id", "=", orderId)
    .orderBy("id")
    .execute();
}

/** A page of orders, newest first; `after` is the last row of the previous page. */
export async function listOrders(
  db: OrdersDb,
  filter: { userId?: string; limit: number; after?: { createdAt: Date; id: string } },
): Promise<OrderRow[]> {
  let query = db
    .selectFrom("orders")
    .selectAll()
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(filter.limit + 1);
  if (filter.userId) query = query.where("user_id", "=", filter.userId);
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

/**
 * Moves a saga step forward only if the order is still where the step expects it (a guarded,
 * conditional update: safe against a concurrent timeout or a redelivered reply on any number
 * of replicas). Returns the updated order, or undefined when the guard did not hold.
 */
export async function advance(
  db: OrdersDb,
  id: string,
  from: { status: OrderStatus; step: SagaStep },
  to: { status?: OrderStatus; step: SagaStep },
): Promise<OrderRow | undefined> {
  const update = (query: QueryCreator<OrdersTables & MessagingTables>) =>
    query
      .updateTable("orders")
      .set({ saga_step: to.step, ...(to.status ? { status: to.status } : {}), updated_at: new Date() })
      .where("id", "=", id)
      .where("status", "=", from.status)
      .where("saga_step", "=", from.step)
      .returningAll();
  if (!to.status || to.status === from.status) return update(db).executeTakeFirst();
  // A new status is recorded in the history by the same statement (one trip, not two).
  return db
    .with("advanced", update)
    .with("recorded", (query) =>
      query
        .insertInto("order_history")
        .columns(["order_id", "status"])
        .expression((eb) => eb.selectFrom("advanced").select(["advanced.id as order_id", "advanced.status"])),
    )
    .selectFrom("advanced")
    .selectAll()
    .executeTakeFirst();
}

/**
 * Cancels an order that is in one of `from`; returns it with the status it had before, or
 * undefined when it was not (already cancelled, or not cancellable by this reason).
 */
export async function cancelOrder(
  db: OrdersDb,
  id: string,
  reason: CancellationReason,
  from: OrderStatus[],
): Promise<{ order: OrderRow; previous: OrderStatus } | undefined> {
  const current = await db
    .selectFrom("orders")
    .selectAll()
    .where("id", "=", id)
    .forUpdate()
    .executeTakeFirst();
  if (!current || !from.includes(current.status)) return undefined;
  const order = await db
    .updateTable("orders")
    .set({ status: "cancelled", saga_step: "done", cancellation_reason: reason, updated_at: new Date() })
    .where("id", "=", id)
    .where("status", "=", current.status)
    .returningAll()
    .executeTakeFirst();
  if (!order) return undefined;
  await db.insertInto("order_history").values({ order_id: id, status: "cancelled" }).execute();
  return { order, previous: current.status };
}

/** The status and checkout step of those of `ids` that exist (for the pending-order watch). */
export async function progressAmong(
  db: OrdersDb,
  ids: string[],
): Promise<Array<Pick<OrderRow, "id" | "status" | "saga_step">>> {
  if (ids.length === 0) return [];
  return db.selectFrom("orders").select(["id", "status", "saga_step"]).where("id", "in", ids).execute();
}

/** How many orders are pending (the saga's backlog), on the partial index of pending orders. */
export async function countPendingOrders(db: OrdersDb): Promise<number> {
  const row = await db
    .selectFrom("orders")
    .select((eb) => eb.fn.countAll<number>().as("pending"))
    .where("status", "=", "pending")
    .executeTakeFirstOrThrow();
  return Number(row.pending);
}

/** Pending orders whose saga deadline has passed, oldest first. */
export async function overdueOrders(db: OrdersDb, now: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom("orders")
    .select("id")
    .where("status", "=", "pending")
    .where("deadline", "<", now)
    .orderBy("deadline")
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}
