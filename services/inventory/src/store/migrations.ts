import { messagingMigrations } from "@blossom/bus";
import type { Migrations } from "@blossom/store";
import { sql } from "kysely";

export const inventoryMigrations: Migrations = {
  ...messagingMigrations,
  "0001_create_products": {
    async up(db) {
      await db.schema
        .createTable("products")
        .addColumn("id", "text", (column) => column.primaryKey())
        .addColumn("sku", "text", (column) => column.notNull().unique())
        .addColumn("name", "text", (column) => column.notNull())
        .addColumn("description", "text", (column) => column.notNull())
        .addColumn("category", "text", (column) => column.notNull())
        .addColumn("price_amount", "integer", (column) => column.notNull().check(sql`price_amount >= 0`))
        .addColumn("currency", "text", (column) => column.notNull())
        .addColumn("stock", "integer", (column) => column.notNull().check(sql`stock >= 0`))
        .addColumn("created_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .addColumn("updated_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.createIndex("products_category").on("products").columns(["category", "sku"]).execute();
    },
    async down(db) {
      await db.schema.dropTable("products").execute();
    },
  },
};
