import { Type } from "@sinclair/typebox";

export const NotificationView = Type.Object({
  id: Type.String(),
  channel: Type.String({ description: "email, sms or push" }),
  template: Type.String({ description: "welcome, order-confirmed, order-cancelled or refund-issued" }),
  status: Type.String({ description: "pending, sending, sent or failed" }),
  subject: Type.String(),
  createdAt: Type.String({ format: "date-time" }),
});

export const NotificationsQuery = Type.Object({
  /** Admins only: whose notifications to list (default: the caller's). */
  userId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});

export const NotificationList = Type.Object({
  items: Type.Array(NotificationView),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

/** Which channels the caller wants to be reached on (defaults: email only). */
export const NotificationPreferences = Type.Object({
  email: Type.Boolean(),
  sms: Type.Boolean(),
  push: Type.Boolean(),
});

/** `GET /api/notifications/mailbox`: which development messages to list. */
export const MailboxQuery = Type.Object({
  channel: Type.Optional(Type.Union([Type.Literal("email"), Type.Literal("sms"), Type.Literal("push")])),
  recipient: Type.Optional(
    Type.String({ minLength: 1, maxLength: 320, description: "An email address or a user id" }),
  ),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});

/** A message as a development sink received it. The body is plain text (never HTML). */
export const MailboxMessage = Type.Object({
  id: Type.String({ description: "The notification's id" }),
  userId: Type.String(),
  channel: Type.Union([Type.Literal("email"), Type.Literal("sms"), Type.Literal("push")]),
  template: Type.String(),
  recipient: Type.String({ description: "The email address, or the user id for sms and push" }),
  subject: Type.String({ description: "The email's subject, or the sms/push title" }),
  body: Type.String({ description: "Plain text" }),
  deliveredAt: Type.String({ format: "date-time" }),
});

export const MailboxPage = Type.Object({
  items: Type.Array(MailboxMessage),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
