/**
 * The public contract of the notifications service: the integration events it publishes (TypeBox
 * schemas, validated on publish and on receive). Other services import this package and nothing
 * else of notifications.
 */
import { defineEvent } from "@blossom/event-contracts";
import { Type } from "@sinclair/typebox";

/** Published when a message has been handed to its channel (mailbox, SMTP, sms, push). */
export const NotificationSent = defineEvent(
  "notifications.notification-sent.v1",
  Type.Object({
    notificationId: Type.String(),
    userId: Type.String(),
    channel: Type.Union([Type.Literal("email"), Type.Literal("sms"), Type.Literal("push")]),
    template: Type.String(),
  }),
  "A notification was delivered to its channel.",
);

export const notificationsEvents = [NotificationSent];
