import { messagingMigrations } from "@blossom/bus";
import type { Migrations } from "@blossom/store";
import { sql } from "kysely";

export const paymentsMigrations: Migrations = {
  ...messagingMigrations,
  "0001_create_payments": {
    async up(db) {
      await db.schema
        .createTable("payments")
        .addColumn("id", "text", (column) => column.primaryKey())
        // One payment per order: a redelivered OrderPlaced can never open a second one.
        .addColumn("order_id", "text", (column) => column.notNull().unique())
        .addColumn("amount", "integer", (column) => column.notNull().check(sql`amount >= 0`))
        .addColumn("currency", "text", (column) => column.notNull())
        .addColumn("status", "text", (column) => column.notNull())
        .addColumn("created_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("payments").execute();
    },
  },
};
