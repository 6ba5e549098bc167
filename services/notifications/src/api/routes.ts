import type { ServiceContext } from "@blossom/host";
import type { App } from "@blossom/runtime";
import type { NotificationsTables } from "../store/tables.js";
import { NotificationList, NotificationsQuery } from "./schemas.js";

export function notificationsRoutes(app: App, context: ServiceContext<NotificationsTables>): void {
  app.get(
    "/api/notifications",
    { schema: { querystring: NotificationsQuery, response: { 200: NotificationList } } },
    async (request) => {
      const rows = await context.db
        .selectFrom("notifications")
        .select(["id", "channel", "template", "status", "subject", "created_at"])
        .where("user_id", "=", request.query.userId)
        .orderBy("created_at", "desc")
        .limit(request.query.limit)
        .execute();
      return {
        items: rows.map((row) => ({
          ...row,
          createdAt: row.created_at.toISOString(),
          created_at: undefined,
        })),
        nextCursor: null,
      };
    },
  );
}
