import { messagingMigrations } from "@blossom/bus";
import type { Migrations } from "@blossom/store";
import { sql } from "kysely";

export const usersMigrations: Migrations = {
  ...messagingMigrations,
  "0001_create_users": {
    async up(db) {
      await db.schema
        .createTable("users")
        .addColumn("id", "text", (column) => column.primaryKey())
        .addColumn("email", "text", (column) => column.notNull())
        .addColumn("name", "text", (column) => column.notNull())
        .addColumn("password_hash", "text", (column) => column.notNull())
        .addColumn("role", "text", (column) => column.notNull().check(sql`role in ('customer', 'admin')`))
        .addColumn("created_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .execute();
      // Emails are unique whatever their case: the index is on the lower-cased form.
      await sql`create unique index users_email_unique on users (lower(email))`.execute(db);
    },
    async down(db) {
      await db.schema.dropTable("users").execute();
    },
  },
};
