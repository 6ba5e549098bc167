import type { Insertable, Selectable } from "kysely";
import type { CursorKey } from "../domain/cursor.js";
import type { PaymentsDb } from "./payments-store.js";
import type { PaymentsTables } from "./tables.js";

export type PaymentMethodRow = Selectable<PaymentsTables["payment_methods"]>;
export type PaymentMethodRequestRow = Selectable<PaymentsTables["payment_method_requests"]>;

export async function insertPaymentMethod(
  db: PaymentsDb,
  row: Insertable<PaymentsTables["payment_methods"]>,
): Promise<void> {
  await db.insertInto("payment_methods").values(row).execute();
}

export async function findPaymentMethod(db: PaymentsDb, id: string): Promise<PaymentMethodRow | undefined> {
  return db.selectFrom("payment_methods").selectAll().where("id", "=", id).executeTakeFirst();
}

/** The user's methods, newest first, after `after` (keyset pagination); `limit + 1` rows tell if there is more. */
export async function listPaymentMethods(
  db: PaymentsDb,
  userId: string,
  page: { after: CursorKey | undefined; limit: number },
): Promise<PaymentMethodRow[]> {
  let query = db.selectFrom("payment_methods").selectAll().where("user_id", "=", userId);
  const after = page.after;
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb("created_at", "<", after.createdAt),
        eb.and([eb("created_at", "=", after.createdAt), eb("id", "<", after.id)]),
      ]),
    );
  }
  return query
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(page.limit + 1)
    .execute();
}

export async function findPaymentMethodRequest(
  db: PaymentsDb,
  userId: string,
  idempotencyKey: string,
): Promise<PaymentMethodRequestRow | undefined> {
  return db
    .selectFrom("payment_method_requests")
    .selectAll()
    .where("user_id", "=", userId)
    .where("idempotency_key", "=", idempotencyKey)
    .executeTakeFirst();
}

/**
 * Claims the idempotency key for this request; false when another request holds it already (on
 * PostgreSQL a concurrent claim waits for the first transaction and then sees its row).
 */
export async function claimPaymentMethodRequest(
  db: PaymentsDb,
  request: { userId: string; idempotencyKey: string; fingerprint: string; paymentMethodId: string },
): Promise<boolean> {
  const inserted = await db
    .insertInto("payment_method_requests")
    .values({
      user_id: request.userId,
      idempotency_key: request.idempotencyKey,
      fingerprint: request.fingerprint,
      payment_method_id: request.paymentMethodId,
    })
    .onConflict((conflict) => conflict.columns(["user_id", "idempotency_key"]).doNothing())
    .returning("idempotency_key")
    .executeTakeFirst();
  return inserted !== undefined;
}
