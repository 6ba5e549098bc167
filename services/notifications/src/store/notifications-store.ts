import { type Selectable, sql } from "kysely";
import type { NotificationsDb } from "./db.js";
import type { NotificationsTables } from "./tables.js";

export type NotificationRow = Selectable<NotificationsTables["notifications"]>;

export interface NewNotification {
  id: string;
  userId: string;
  channel: NotificationRow["channel"];
  template: string;
  recipient: string | null;
  subject: string;
  body: string;
  sourceEventId: string;
}

/**
 * Records messages as `pending` (inside the inbox transaction). One event gives at most one row
 * per channel: a second recording of the same (event, channel) is ignored. Returns how many
 * rows are new.
 */
export async function recordNotifications(db: NotificationsDb, rows: NewNotification[]): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await db
    .insertInto("notifications")
    .values(
      rows.map((row) => ({
        id: row.id,
        user_id: row.userId,
        channel: row.channel,
        template: row.template,
        recipient: row.recipient,
        subject: row.subject,
        body: row.body,
        status: "pending" as const,
        source_event_id: row.sourceEventId,
      })),
    )
    .onConflict((conflict) => conflict.columns(["source_event_id", "channel"]).doNothing())
    .returning("id")
    .execute();
  return inserted.length;
}

/** One user's notifications, newest first, after the `beforeSeq` cursor; one extra row tells if a next page exists. */
export async function listNotifications(
  db: NotificationsDb,
  filter: { userId: string; beforeSeq?: number | undefined; limit: number },
) {
  let query = db
    .selectFrom("notifications")
    .select(["id", "channel", "template", "status", "subject", "created_at", "seq"])
    .where("user_id", "=", filter.userId)
    .orderBy("seq", "desc")
    .limit(filter.limit + 1);
  if (filter.beforeSeq !== undefined) query = query.where("seq", "<", filter.beforeSeq);
  return query.execute();
}

/** `now() + ms`, computed by the database so that every replica uses one clock. */
const inMs = (ms: number) => sql<Date>`now() + make_interval(secs => ${ms / 1000})`;

/**
 * Claims up to `limit` due notifications for one dispatcher pass, in one statement: pending rows
 * whose time has come, and `sending` rows whose claim expired (their dispatcher died mid-send).
 * `FOR UPDATE SKIP LOCKED` lets replicas on one PostgreSQL database claim disjoint rows without
 * waiting on each other; a row locked by a concurrent claim is re-checked after it commits and
 * no longer matches. Each claim counts as an attempt, so a message that crashes its dispatcher
 * still runs out of attempts.
 */
export async function claimDue(
  db: NotificationsDb,
  options: { token: string; limit: number; claimMs: number },
): Promise<NotificationRow[]> {
  return db
    .updateTable("notifications")
    .set((eb) => ({
      status: "sending",
      claim_token: options.token,
      claimed_until: inMs(options.claimMs),
      attempts: eb("attempts", "+", 1),
    }))
    .where("id", "in", (eb) =>
      eb
        .selectFrom("notifications")
        .select("id")
        .where((w) =>
          w.or([
            w.and([w("status", "=", "pending"), w("next_attempt_at", "<=", sql<Date>`now()`)]),
            w.and([w("status", "=", "sending"), w("claimed_until", "<", sql<Date>`now()`)]),
          ]),
        )
        .orderBy("next_attempt_at")
        .orderBy("seq")
        .limit(options.limit)
        .forUpdate()
        .skipLocked(),
    )
    .returningAll()
    .execute()
    .then((rows) => rows.sort((a, b) => a.seq - b.seq));
}

/** Settles a delivered row, if this pass still holds it; false when the claim was lost. */
export async function markSent(
  db: NotificationsDb,
  row: { id: string; token: string; recipient: string },
): Promise<boolean> {
  const updated = await db
    .updateTable("notifications")
    .set({
      status: "sent",
      recipient: row.recipient,
      sent_at: sql<Date>`now()`,
      claim_token: null,
      claimed_until: null,
      last_error: null,
    })
    .where("id", "=", row.id)
    .where("claim_token", "=", row.token)
    .where("status", "=", "sending")
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

/** Puts a failed row back in the queue, due after `delayMs`. */
export async function scheduleRetry(
  db: NotificationsDb,
  row: { id: string; token: string; delayMs: number; error: string },
): Promise<boolean> {
  const updated = await db
    .updateTable("notifications")
    .set({
      status: "pending",
      next_attempt_at: inMs(row.delayMs),
      claim_token: null,
      claimed_until: null,
      last_error: row.error.slice(0, 1000),
    })
    .where("id", "=", row.id)
    .where("claim_token", "=", row.token)
    .where("status", "=", "sending")
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

/** Gives up on a row: no attempts left, or a permanent refusal. */
export async function markFailed(
  db: NotificationsDb,
  row: { id: string; token: string; error: string },
): Promise<boolean> {
  const updated = await db
    .updateTable("notifications")
    .set({ status: "failed", claim_token: null, claimed_until: null, last_error: row.error.slice(0, 1000) })
    .where("id", "=", row.id)
    .where("claim_token", "=", row.token)
    .where("status", "=", "sending")
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

/** Hands back claimed rows this pass never tried (the dispatcher is stopping): due now, attempt not counted. */
export async function releaseClaims(db: NotificationsDb, token: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable("notifications")
    .set((eb) => ({
      status: "pending",
      claim_token: null,
      claimed_until: null,
      attempts: eb("attempts", "-", 1),
    }))
    .where("id", "in", ids)
    .where("claim_token", "=", token)
    .where("status", "=", "sending")
    .execute();
}
