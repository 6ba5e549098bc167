import { messagingMigrations } from "@blossom/bus";
import { auditLogMigration } from "@blossom/host";
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
  "0002_checkout_saga": {
    async up(db) {
      await db.schema
        .alterTable("orders")
        .addColumn("user_id", "text")
        .addColumn("payment_method_id", "text")
        .addColumn("shipping_address", "jsonb")
        .addColumn("idempotency_key", "text")
        .addColumn("request_hash", "text")
        .addColumn("cancellation_reason", "text")
        .addColumn("saga_step", "text")
        .addColumn("deadline", "timestamptz")
        .execute();
      // One order per (customer, Idempotency-Key): a retried POST finds the first one.
      await db.schema
        .createIndex("orders_idempotency")
        .on("orders")
        .columns(["user_id", "idempotency_key"])
        .unique()
        .execute();
      await db.schema
        .createIndex("orders_by_user")
        .on("orders")
        .columns(["user_id", "created_at", "id"])
        .execute();
      // The deadline sweep reads only pending orders.
      await db.schema
        .createIndex("orders_pending_deadline")
        .on("orders")
        .column("deadline")
        .where(sql.ref("status"), "=", "pending")
        .execute();
      await db.schema
        .createTable("order_history")
        .addColumn("id", "serial", (column) => column.primaryKey())
        .addColumn("order_id", "text", (column) => column.notNull().references("orders.id"))
        .addColumn("status", "text", (column) => column.notNull())
        .addColumn("at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createIndex("order_history_by_order")
        .on("order_history")
        .columns(["order_id", "id"])
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("order_history").execute();
      await db.schema.dropIndex("orders_pending_deadline").execute();
      await db.schema.dropIndex("orders_by_user").execute();
      await db.schema.dropIndex("orders_idempotency").execute();
      await db.schema
        .alterTable("orders")
        .dropColumn("user_id")
        .dropColumn("payment_method_id")
        .dropColumn("shipping_address")
        .dropColumn("idempotency_key")
        .dropColumn("request_hash")
        .dropColumn("cancellation_reason")
        .dropColumn("saga_step")
        .dropColumn("deadline")
        .execute();
    },
  },
  "0003_audit_log": auditLogMigration,
};
