import type { MessagingTables } from "@blossom/bus";
import type { Kysely, Selectable } from "kysely";
import type { PaymentsTables } from "./tables.js";

export type PaymentsDb = Kysely<PaymentsTables & MessagingTables>;
export type PaymentRow = Selectable<PaymentsTables["payments"]>;

export async function openPayment(
  db: PaymentsDb,
  payment: { id: string; orderId: string; amount: number },
): Promise<void> {
  await db
    .insertInto("payments")
    .values({
      id: payment.id,
      order_id: payment.orderId,
      amount: payment.amount,
      currency: "USD",
      status: "pending",
    })
    .execute();
}

export async function paymentsOfOrder(db: PaymentsDb, orderId: string): Promise<PaymentRow[]> {
  return db
    .selectFrom("payments")
    .selectAll()
    .where("order_id", "=", orderId)
    .orderBy("created_at")
    .execute();
}
