import type { NotificationsDb } from "./db.js";

/** Puts an email in the local mailbox; a second delivery of the same notification is ignored. */
export async function deliverToMailbox(
  db: NotificationsDb,
  mail: { notificationId: string; recipient: string; subject: string; body: string },
): Promise<void> {
  await db
    .insertInto("mailbox")
    .values({
      notification_id: mail.notificationId,
      recipient: mail.recipient,
      subject: mail.subject,
      body: mail.body,
    })
    .onConflict((conflict) => conflict.column("notification_id").doNothing())
    .execute();
}

/** Records what an sms or push provider would have been asked to send (development sink). */
export async function recordDeviceMessage(
  db: NotificationsDb,
  message: { notificationId: string; channel: "sms" | "push"; userId: string; title: string; text: string },
): Promise<void> {
  await db
    .insertInto("device_messages")
    .values({
      notification_id: message.notificationId,
      channel: message.channel,
      user_id: message.userId,
      title: message.title,
      text: message.text,
    })
    .onConflict((conflict) => conflict.column("notification_id").doNothing())
    .execute();
}
