import { Type } from "@sinclair/typebox";

export const NotificationView = Type.Object({
  id: Type.String(),
  channel: Type.String(),
  template: Type.String(),
  status: Type.String(),
  subject: Type.String(),
  createdAt: Type.String({ format: "date-time" }),
});

export const NotificationsQuery = Type.Object({
  userId: Type.String({ minLength: 1, maxLength: 100 }),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
});

export const NotificationList = Type.Object({ items: Type.Array(NotificationView), nextCursor: Type.Null() });
