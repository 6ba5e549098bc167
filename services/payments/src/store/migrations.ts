import { messagingMigrations } from "@blossom/bus";
import { auditLogMigration } from "@blossom/host";
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
  /**
   * Issue 3: payment methods, the saga's payments and its bookkeeping. The skeleton's `payments`
   * table (a pending row per placed order, no owner, no method) does not fit the saga, and its
   * rows carry nothing a customer paid: it is dropped and created again.
   */
  "0002_payment_methods_and_saga": {
    async up(db) {
      await db.schema.dropTable("payments").execute();
      await db.schema
        .createTable("payment_methods")
        .addColumn("id", "text", (column) => column.primaryKey())
        .addColumn("user_id", "text", (column) => column.notNull())
        .addColumn("provider", "text", (column) => column.notNull())
        .addColumn("token", "text", (column) => column.notNull())
        .addColumn("brand", "text", (column) => column.notNull())
        .addColumn("last4", "text", (column) => column.notNull().check(sql`last4 ~ '^[0-9]{4}$'`))
        .addColumn("exp_month", "integer", (column) =>
          column.notNull().check(sql`exp_month between 1 and 12`),
        )
        .addColumn("exp_year", "integer", (column) => column.notNull())
        .addColumn("created_at", "timestamptz", (column) => column.notNull())
        .addUniqueConstraint("payment_methods_provider_token", ["provider", "token"])
        .execute();
      await db.schema
        .createIndex("payment_methods_by_user")
        .on("payment_methods")
        .columns(["user_id", "created_at", "id"])
        .execute();
      await db.schema
        .createTable("payment_method_requests")
        .addColumn("user_id", "text", (column) => column.notNull())
        .addColumn("idempotency_key", "text", (column) => column.notNull())
        .addColumn("fingerprint", "text", (column) => column.notNull())
        .addColumn("payment_method_id", "text", (column) =>
          column.notNull().references("payment_methods.id").onDelete("cascade"),
        )
        .addColumn("created_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint("payment_method_requests_pk", ["user_id", "idempotency_key"])
        .execute();
      await db.schema
        .createTable("payments")
        .addColumn("id", "text", (column) => column.primaryKey())
        // One payment per order: however often the saga asks, an order is charged once.
        .addColumn("order_id", "text", (column) => column.notNull().unique())
        .addColumn("user_id", "text", (column) => column.notNull())
        .addColumn("payment_method_id", "text", (column) => column.notNull())
        .addColumn("provider", "text", (column) => column.notNull())
        .addColumn("amount", "integer", (column) => column.notNull().check(sql`amount >= 0`))
        .addColumn("currency", "text", (column) => column.notNull())
        .addColumn("status", "text", (column) =>
          column
            .notNull()
            .check(sql`status in ('pending', 'authorized', 'captured', 'refunded', 'voided', 'declined')`),
        )
        .addColumn("decline_reason", "text")
        .addColumn("authorization_id", "text")
        .addColumn("capture_id", "text")
        .addColumn("refund_id", "text")
        .addColumn("void_id", "text")
        .addColumn("created_at", "timestamptz", (column) => column.notNull())
        .addColumn("updated_at", "timestamptz", (column) => column.notNull())
        .addCheckConstraint(
          "payments_declined_has_reason",
          sql`(status = 'declined') = (decline_reason is not null)`,
        )
        .execute();
      await db.schema
        .createTable("cancelled_orders")
        .addColumn("order_id", "text", (column) => column.primaryKey())
        .addColumn("user_id", "text", (column) => column.notNull())
        .addColumn("reason", "text", (column) => column.notNull())
        .addColumn("cancelled_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("cancelled_orders").execute();
      await db.schema.dropTable("payments").execute();
      await db.schema.dropTable("payment_method_requests").execute();
      await db.schema.dropTable("payment_methods").execute();
      // The skeleton's table, as 0001 made it.
      await db.schema
        .createTable("payments")
        .addColumn("id", "text", (column) => column.primaryKey())
        .addColumn("order_id", "text", (column) => column.notNull().unique())
        .addColumn("amount", "integer", (column) => column.notNull().check(sql`amount >= 0`))
        .addColumn("currency", "text", (column) => column.notNull())
        .addColumn("status", "text", (column) => column.notNull())
        .addColumn("created_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .execute();
    },
  },
  "0003_audit_log": auditLogMigration,
};
