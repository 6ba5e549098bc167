import { messagingMigrations } from "@blossom/bus";
import { auditLogMigration } from "@blossom/host";
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
  "0002_create_signing_keys": {
    async up(db) {
      await db.schema
        .createTable("signing_keys")
        .addColumn("kid", "text", (column) => column.primaryKey())
        .addColumn("public_jwk", "text", (column) => column.notNull())
        .addColumn("private_jwk", "text")
        .addColumn("created_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .addColumn("retired_at", "timestamptz")
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("signing_keys").execute();
    },
  },
  "0003_create_refresh_tokens": {
    async up(db) {
      await db.schema
        .createTable("refresh_tokens")
        .addColumn("id", "text", (column) => column.primaryKey())
        .addColumn("token_hash", "text", (column) => column.notNull().unique())
        .addColumn("family_id", "text", (column) => column.notNull())
        .addColumn("user_id", "text", (column) => column.notNull().references("users.id").onDelete("cascade"))
        .addColumn("created_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
        .addColumn("expires_at", "timestamptz", (column) => column.notNull())
        .addColumn("used_at", "timestamptz")
        .addColumn("revoked_at", "timestamptz")
        .execute();
      await db.schema.createIndex("refresh_tokens_family").on("refresh_tokens").column("family_id").execute();
      await db.schema.createIndex("refresh_tokens_user").on("refresh_tokens").column("user_id").execute();
    },
    async down(db) {
      await db.schema.dropTable("refresh_tokens").execute();
    },
  },
  "0004_audit_log": auditLogMigration,
};
