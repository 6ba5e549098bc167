import { sql } from "kysely";
import type { NotificationsDb } from "./db.js";

/** One message a development sink received: an email in the mailbox, or an sms or push in `device_messages`. */
export interface MailboxRow {
  seq: number;
  id: string;
  user_id: string;
  channel: "email" | "sms" | "push";
  template: string;
  /** The email address, or the user id for sms and push. */
  recipient: string;
  subject: string;
  body: string;
  delivered_at: Date;
}

/**
 * The development sinks' messages, newest first (by the notification's insertion order), before
 * the `beforeSeq` cursor; one extra row tells if a next page exists. `recipient` matches an email
 * address or a user id. Only delivered messages are listed: a notification still pending, or sent
 * through SMTP, has no row in either sink.
 */
export async function listMailbox(
  db: NotificationsDb,
  filter: {
    channel?: "email" | "sms" | "push" | undefined;
    recipient?: string | undefined;
    beforeSeq?: number | undefined;
    limit: number;
  },
): Promise<MailboxRow[]> {
  let query = db
    .selectFrom("notifications as n")
    .leftJoin("mailbox as m", "m.notification_id", "n.id")
    .leftJoin("device_messages as d", "d.notification_id", "n.id")
    .select([
      "n.seq",
      "n.id",
      "n.user_id",
      "n.channel",
      "n.template",
      sql<string>`coalesce(m.recipient, d.user_id)`.as("recipient"),
      sql<string>`coalesce(m.subject, d.title)`.as("subject"),
      sql<string>`coalesce(m.body, d.text)`.as("body"),
      sql<Date>`coalesce(m.delivered_at, d.delivered_at)`.as("delivered_at"),
    ])
    .where((eb) => eb.or([eb("m.notification_id", "is not", null), eb("d.notification_id", "is not", null)]))
    .orderBy("n.seq", "desc")
    .limit(filter.limit + 1);
  if (filter.channel !== undefined) query = query.where("n.channel", "=", filter.channel);
  const recipient = filter.recipient;
  if (recipient !== undefined)
    query = query.where((eb) => eb.or([eb("n.user_id", "=", recipient), eb("m.recipient", "=", recipient)]));
  if (filter.beforeSeq !== undefined) query = query.where("n.seq", "<", filter.beforeSeq);
  const rows = await query.execute();
  // bigserial comes back as a string from some drivers.
  return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
}
