import { messagingMigrations } from "@blossom/bus";
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
};
