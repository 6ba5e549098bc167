import { messagingMigrations } from "@blossom/bus";
import type { Migrations } from "@blossom/store";
import { sql } from "kysely";

export const ordersMigrations: Migrations = {
  ...messagingMigrations,
  "0001_create_orders": {
    async up(db) {
      await db.schema
        .createTable("orders")
        .addColumn("id", "text", (column) => column.primaryKey())
        .addColumn("status", "text", (column) =>
          column.notNull().check(sql`status in ('pending', 'confirmed', 'cancelled')`),
        )
        .addColumn("items", "jsonb", (column) => column.notNull())
        .addColumn("total_amount", "integer", (column) => column.notNull().check(sql`total_amount >= 0`))
        .addColumn("currency", "text", (column) => column.notNull())
        .addColumn("created_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .addColumn("updated_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("orders").execute();
    },
  },
};
