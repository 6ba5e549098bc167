import { type ColumnType, type Generated, type Kysely, sql } from "kysely";

/** The outbox and inbox tables every service database has (see `messagingMigrations`). */
export interface MessagingTables {
  outbox: {
    position: Generated<string>;
    id: string;
    type: string;
    subject: string;
    envelope: ColumnType<unknown, string, string>;
    created_at: Generated<Date>;
    published_at: Date | null;
    attempts: Generated<number>;
    last_error: string | null;
  };
  inbox: {
    consumer: string;
    event_id: string;
    event_type: string;
    handled_at: Generated<Date>;
  };
}

/**
 * The first migration of every service: the outbox (events written in the same transaction as
 * the state change, published by the relay in `position` order) and the inbox (event ids a
 * consumer has handled, recorded in the same transaction as the effect).
 */
export const messagingMigrations = {
  "0000_messaging_outbox_inbox": {
    // biome-ignore lint/suspicious/noExplicitAny: a migration runs before the typed schema exists (Kysely's documented pattern).
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("outbox")
        .addColumn("position", "bigserial", (column) => column.primaryKey())
        .addColumn("id", "text", (column) => column.notNull().unique())
        .addColumn("type", "text", (column) => column.notNull())
        .addColumn("subject", "text", (column) => column.notNull())
        .addColumn("envelope", "jsonb", (column) => column.notNull())
        .addColumn("created_at", "timestamptz", (column) => column.notNull().defaultTo(db.fn("now")))
        .addColumn("published_at", "timestamptz")
        .addColumn("attempts", "integer", (column) => column.notNull().defaultTo(0))
        .addColumn("last_error", "text")
        .execute();
      await db.schema
        .createIndex("outbox_pending")
        .on("outbox")
        .column("position")
        .where(sql.ref("published_at"), "is", null)
        .execute();
      await db.schema
        .createTable("inbox")
        .addColumn("consumer", "text", (column) => column.notNull())
        .addColumn("event_id", "text", (column) => column.notNull())
        .addColumn("event_type", "text", (column) => column.notNull())
        .addColumn("handled_at", "timestamptz", (column) => column.notNull().defaultTo(db.fn("now")))
        .addPrimaryKeyConstraint("inbox_pk", ["consumer", "event_id"])
        .execute();
    },
    // biome-ignore lint/suspicious/noExplicitAny: see up().
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable("inbox").execute();
      await db.schema.dropTable("outbox").execute();
    },
  },
};

/**
 * Any service database that has the messaging tables. `Kysely<DB>` is invariant in `DB`, so a
 * service's `Kysely<ServiceTables & MessagingTables>` is not assignable to
 * `Kysely<MessagingTables>`; the outbox and inbox accept any database and only touch their own
 * tables (through `asMessagingDb`).
 */
// biome-ignore lint/suspicious/noExplicitAny: see above; the type is narrowed again on use.
export type AnyServiceDb = Kysely<any>;

export function asMessagingDb(db: AnyServiceDb): Kysely<MessagingTables> {
  return db as Kysely<MessagingTables>;
}
