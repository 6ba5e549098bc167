import { requireUser } from "@blossom/auth";
import type { ServiceContext } from "@blossom/host";
import { type App, HttpProblem, problemResponse } from "@blossom/runtime";
import { decodeCursor, encodeCursor } from "../domain/cursor.js";
import { listNotifications } from "../store/notifications-store.js";
import type { NotificationsTables } from "../store/tables.js";
import { NotificationList, NotificationsQuery } from "./schemas.js";

/**
 * `GET /api/notifications`: the caller's notifications, newest first, a page at a time. Only an
 * admin may name another user with `?userId=`.
 */
export function listNotificationsRoute(app: App, context: ServiceContext<NotificationsTables>): void {
  app.get(
    "/api/notifications",
    {
      config: { auth: "user" },
      schema: {
        querystring: NotificationsQuery,
        response: {
          200: NotificationList,
          403: problemResponse("`userId` names another user and the caller is not an admin"),
        },
      },
    },
    async (request) => {
      const caller = requireUser(request);
      const { limit, cursor } = request.query;
      const userId = request.query.userId ?? caller.userId;
      if (userId !== caller.userId && caller.role !== "admin") {
        throw HttpProblem.of("forbidden", "only an admin may list another user's notifications");
      }
      const beforeSeq = cursor === undefined ? undefined : decodeCursor(cursor);
      if (cursor !== undefined && beforeSeq === undefined) {
        throw HttpProblem.of("validation", "cursor is not valid", {
          errors: [{ pointer: "/cursor", detail: "not a cursor this API returned" }],
        });
      }
      const rows = await listNotifications(context.db, { userId, beforeSeq, limit });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => ({
          id: row.id,
          channel: row.channel,
          template: row.template,
          status: row.status,
          subject: row.subject,
          createdAt: row.created_at.toISOString(),
        })),
        nextCursor: rows.length > limit && last ? encodeCursor(last.seq) : null,
      };
    },
  );
}
