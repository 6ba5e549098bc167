import { randomUUID } from "node:crypto";
import { type EventBinding, on } from "@blossom/host";
import { UserRegistered } from "@blossom/users/contracts";
import { renderWelcome } from "../domain/templates.js";
import type { NotificationsTables } from "../store/tables.js";
import { NotificationSent } from "./contracts.js";

/**
 * Sends the welcome email to every new account. Delivery goes to the platform's local mailbox
 * (the notifications table) until the SMTP channel arrives with issue 3.
 */
export const notificationsHandlers: EventBinding<NotificationsTables>[] = [
  on<NotificationsTables, typeof UserRegistered.schema>(
    UserRegistered,
    async ({ data, envelope, trx, context }) => {
      const id = randomUUID();
      const message = renderWelcome(data.name);
      await trx
        .insertInto("notifications")
        .values({
          id,
          user_id: data.userId,
          channel: "email",
          template: "welcome",
          recipient: data.email,
          subject: message.subject,
          body: message.body,
          status: "sent",
          source_event_id: envelope.id,
        })
        .execute();
      await context.outbox.add(trx, NotificationSent, data.userId, {
        notificationId: id,
        userId: data.userId,
        channel: "email",
        template: "welcome",
      });
    },
  ),
];
