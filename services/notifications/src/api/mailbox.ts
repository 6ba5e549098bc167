import { requireAdmin } from "@blossom/auth";
import type { ServiceContext } from "@blossom/host";
import { type App, HttpProblem } from "@blossom/runtime";
import { decodeCursor, encodeCursor } from "../domain/cursor.js";
import { listMailbox } from "../store/mailbox-store.js";
import type { NotificationsTables } from "../store/tables.js";
import { MailboxPage, MailboxQuery } from "./schemas.js";

/**
 * `GET /api/notifications/mailbox` (admins): what the development sinks received — emails in the
 * local mailbox (when no SMTP server is configured) and sms and push in `device_messages` — with
 * their bodies, newest first, a page at a time; by channel and by recipient (an email address or
 * a user id). The operations console's mailbox.
 */
export function mailboxRoute(app: App, context: ServiceContext<NotificationsTables>): void {
  app.get(
    "/api/notifications/mailbox",
    {
      config: { auth: "admin" },
      schema: { querystring: MailboxQuery, response: { 200: MailboxPage } },
    },
    async (request) => {
      requireAdmin(request);
      const { channel, recipient, limit, cursor } = request.query;
      const beforeSeq = cursor === undefined ? undefined : decodeCursor(cursor);
      if (cursor !== undefined && beforeSeq === undefined) {
        throw HttpProblem.of("validation", "cursor is not valid", {
          errors: [{ pointer: "/cursor", detail: "not a cursor this API returned" }],
        });
      }
      const rows = await listMailbox(context.db, { channel, recipient, beforeSeq, limit });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => ({
          id: row.id,
          userId: row.user_id,
          channel: row.channel,
          template: row.template,
          recipient: row.recipient,
          subject: row.subject,
          body: row.body,
          deliveredAt: new Date(row.delivered_at).toISOString(),
        })),
        nextCursor: rows.length > limit && last ? encodeCursor(last.seq) : null,
      };
    },
  );
}
