import { messagingMigrations } from "@blossom/bus";
import { auditLogMigration } from "@blossom/host";
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
  "0002_reservations": {
    async up(db) {
      await db.schema
        .alterTable("products")
        .addColumn("reserved", "integer", (column) => column.notNull().defaultTo(0))
        .execute();
      // The last guard against overselling: whatever the code does, held units never exceed
      // the stock and stock never drops below what is held.
      await db.schema
        .alterTable("products")
        .addCheckConstraint("products_reserved_within_stock", sql`reserved >= 0 AND reserved <= stock`)
        .execute();
      await db.schema
        .createTable("reservations")
        .addColumn("order_id", "text", (column) => column.primaryKey())
        .addColumn("status", "text", (column) =>
          column
            .notNull()
            .check(
              sql`status IN ('active', 'committed', 'released', 'restocked', 'expired', 'rejected', 'cancelled')`,
            ),
        )
        .addColumn("expires_at", "timestamptz")
        .addColumn("created_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .addColumn("updated_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createIndex("reservations_active_by_expiry")
        .on("reservations")
        .columns(["expires_at", "order_id"])
        .where(sql.ref("status"), "=", "active")
        .execute();
      await db.schema
        .createTable("reservation_lines")
        .addColumn("order_id", "text", (column) => column.notNull().references("reservations.order_id"))
        .addColumn("product_id", "text", (column) => column.notNull().references("products.id"))
        .addColumn("quantity", "integer", (column) => column.notNull().check(sql`quantity > 0`))
        .addColumn("held", "boolean", (column) => column.notNull())
        .addPrimaryKeyConstraint("reservation_lines_pk", ["order_id", "product_id"])
        .execute();
      await db.schema
        .createIndex("reservation_lines_held_by_product")
        .on("reservation_lines")
        .columns(["product_id", "order_id"])
        .where(sql.ref("held"), "=", true)
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("reservation_lines").execute();
      await db.schema.dropTable("reservations").execute();
      await db.schema.alterTable("products").dropConstraint("products_reserved_within_stock").execute();
      await db.schema.alterTable("products").dropColumn("reserved").execute();
    },
  },
  "0003_admin_changes": {
    async up(db) {
      await db.schema
        .createTable("admin_changes")
        .addColumn("id", "text", (column) => column.primaryKey())
        .addColumn("actor_id", "text", (column) => column.notNull())
        .addColumn("action", "text", (column) => column.notNull())
        .addColumn("product_id", "text", (column) => column.notNull())
        .addColumn("details", "jsonb", (column) => column.notNull())
        .addColumn("created_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createIndex("admin_changes_by_product")
        .on("admin_changes")
        .columns(["product_id", "created_at"])
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("admin_changes").execute();
    },
  },
  "0004_audit_log": auditLogMigration,
};
