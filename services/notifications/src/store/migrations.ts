import { messagingMigrations } from "@blossom/bus";
import { auditLogMigration } from "@blossom/host";
import type { Migrations } from "@blossom/store";
import { sql } from "kysely";

export const notificationsMigrations: Migrations = {
  ...messagingMigrations,
  "0001_create_notifications": {
    async up(db) {
      await db.schema
        .createTable("notifications")
        .addColumn("id", "text", (column) => column.primaryKey())
        .addColumn("user_id", "text", (column) => column.notNull())
        .addColumn("channel", "text", (column) => column.notNull())
        .addColumn("template", "text", (column) => column.notNull())
        .addColumn("recipient", "text", (column) => column.notNull())
        .addColumn("subject", "text", (column) => column.notNull())
        .addColumn("body", "text", (column) => column.notNull())
        .addColumn("status", "text", (column) => column.notNull())
        .addColumn("source_event_id", "text", (column) => column.notNull())
        .addColumn("created_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .execute();
      // Never the same notification twice for one event and channel, even past the inbox.
      await db.schema
        .createIndex("notifications_once_per_event")
        .on("notifications")
        .columns(["source_event_id", "channel"])
        .unique()
        .execute();
      await db.schema
        .createIndex("notifications_by_user")
        .on("notifications")
        .columns(["user_id", "created_at"])
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("notifications").execute();
    },
  },
  "0002_delivery_preferences_contacts": {
    async up(db) {
      // Delivery leaves the inbox transaction: rows are recorded `pending` and a dispatcher
      // claims, sends and settles them after commit.
      await db.schema
        .alterTable("notifications")
        .alterColumn("recipient", (column) => column.dropNotNull())
        .execute();
      await db.schema
        .alterTable("notifications")
        .addColumn("seq", "bigserial", (column) => column.notNull())
        .addColumn("attempts", "integer", (column) => column.notNull().defaultTo(0))
        .addColumn("next_attempt_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .addColumn("claim_token", "text")
        .addColumn("claimed_until", "timestamptz")
        .addColumn("sent_at", "timestamptz")
        .addColumn("last_error", "text")
        .execute();
      await sql`update notifications set sent_at = created_at where status = 'sent'`.execute(db);
      await sql`alter table notifications add constraint notifications_status
        check (status in ('pending', 'sending', 'sent', 'failed'))`.execute(db);
      // The list: one user's notifications, newest first.
      await db.schema.dropIndex("notifications_by_user").execute();
      await db.schema
        .createIndex("notifications_by_user")
        .on("notifications")
        .columns(["user_id", "seq desc"])
        .execute();
      // The dispatcher's queue: only unfinished rows are indexed.
      await sql`create index notifications_due on notifications (next_attempt_at)
        where status in ('pending', 'sending')`.execute(db);

      await db.schema
        .createTable("contacts")
        .addColumn("user_id", "text", (column) => column.primaryKey())
        .addColumn("email", "text", (column) => column.notNull())
        .addColumn("name", "text", (column) => column.notNull())
        .addColumn("updated_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createTable("preferences")
        .addColumn("user_id", "text", (column) => column.primaryKey())
        .addColumn("email", "boolean", (column) => column.notNull())
        .addColumn("sms", "boolean", (column) => column.notNull())
        .addColumn("push", "boolean", (column) => column.notNull())
        .addColumn("updated_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createTable("known_orders")
        .addColumn("order_id", "text", (column) => column.primaryKey())
        .addColumn("user_id", "text", (column) => column.notNull())
        .addColumn("refund_announced", "boolean", (column) => column.notNull().defaultTo(false))
        .execute();
      await db.schema
        .createTable("mailbox")
        .addColumn("notification_id", "text", (column) => column.primaryKey())
        .addColumn("recipient", "text", (column) => column.notNull())
        .addColumn("subject", "text", (column) => column.notNull())
        .addColumn("body", "text", (column) => column.notNull())
        .addColumn("delivered_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createTable("device_messages")
        .addColumn("notification_id", "text", (column) => column.primaryKey())
        .addColumn("channel", "text", (column) => column.notNull().check(sql`channel in ('sms', 'push')`))
        .addColumn("user_id", "text", (column) => column.notNull())
        .addColumn("title", "text", (column) => column.notNull())
        .addColumn("text", "text", (column) => column.notNull())
        .addColumn("delivered_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("device_messages").execute();
      await db.schema.dropTable("mailbox").execute();
      await db.schema.dropTable("known_orders").execute();
      await db.schema.dropTable("preferences").execute();
      await db.schema.dropTable("contacts").execute();
      await sql`drop index notifications_due`.execute(db);
      await db.schema.dropIndex("notifications_by_user").execute();
      await db.schema
        .createIndex("notifications_by_user")
        .on("notifications")
        .columns(["user_id", "created_at"])
        .execute();
      await sql`alter table notifications drop constraint notifications_status`.execute(db);
      await db.schema
        .alterTable("notifications")
        .dropColumn("seq")
        .dropColumn("attempts")
        .dropColumn("next_attempt_at")
        .dropColumn("claim_token")
        .dropColumn("claimed_until")
        .dropColumn("sent_at")
        .dropColumn("last_error")
        .execute();
      // Rows without an address cannot go back under NOT NULL: they get an empty one.
      await sql`update notifications set recipient = '' where recipient is null`.execute(db);
      await db.schema
        .alterTable("notifications")
        .alterColumn("recipient", (column) => column.setNotNull())
        .execute();
    },
  },
  // Replays and discards of its dead letters (the operations console) are audited here.
  "0003_audit_log": auditLogMigration,
};
