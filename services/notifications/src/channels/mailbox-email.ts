import type { Channel, OutgoingMessage } from "../domain/channel.js";
import type { NotificationsDb } from "../store/db.js";
import { deliverToMailbox } from "../store/sinks-store.js";

/**
 * Email when no SMTP server is configured: the message lands in the platform's own `mailbox`
 * table (one row per notification, so a repeated delivery changes nothing). Development and
 * tests read it there or through `GET /api/notifications`.
 */
export class MailboxEmailChannel implements Channel {
  readonly name = "email" as const;
  readonly adapter = "mailbox";

  constructor(private readonly db: NotificationsDb) {}

  async send(message: OutgoingMessage): Promise<void> {
    await deliverToMailbox(this.db, {
      notificationId: message.notificationId,
      recipient: message.recipient,
      subject: message.subject,
      body: message.body,
    });
  }
}
