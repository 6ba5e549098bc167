import {
  type Kysely,
  type Migration as KyselyMigration,
  type MigrationResultSet,
  Migrator,
  NO_MIGRATIONS,
} from "kysely";
import type { Store } from "./store.js";

/**
 * One schema change. Both directions are required so any release can be rolled back. Run every
 * statement on the `db` passed in: it is the migration's transaction (on PGlite, a query on the
 * store's own `db` would wait for that transaction to end: a deadlock). Statements that cannot
 * run in a transaction (CREATE INDEX CONCURRENTLY) are not supported.
 *
 * `Kysely<any>`: a migration runs against the schema as it was when the migration was written,
 * not the service's current typed schema, so it must not be typed by it (Kysely's own
 * `Migration` and its docs do the same).
 */
export interface Migration {
  // biome-ignore lint/suspicious/noExplicitAny: the schema at this point of history is not the typed one (see above)
  up(db: Kysely<any>): Promise<void>;
  // biome-ignore lint/suspicious/noExplicitAny: the schema at this point of history is not the typed one (see above)
  down(db: Kysely<any>): Promise<void>;
}

/**
 * A service's migrations by name. Names sort in the order they run ("0001_create_users", …);
 * a new migration must sort after every applied one (Kysely's `allowUnorderedMigrations: false`).
 */
export type Migrations = Record<string, Migration>;

export interface MigrationStatus {
  name: string;
  /** When it was applied; absent while pending. */
  executedAt?: Date;
}

/**
 * A migration run failed. Nothing of that run stays applied: all its migrations run in one
 * transaction (PostgreSQL and PGlite have transactional DDL), so migrations applied by earlier
 * runs remain and the failed run's earlier steps are rolled back with the failing one.
 */
export class MigrationError extends Error {
  override readonly name = "MigrationError";
  constructor(
    /** The migration that threw; undefined when the run failed before any ran (lock, missing or out-of-order migration). */
    readonly migration: string | undefined,
    readonly direction: "up" | "down",
    options: { cause: unknown },
  ) {
    const what =
      migration === undefined ? `migrating ${direction}` : `migration "${migration}" (${direction})`;
    super(`${what} failed: ${messageOf(options.cause)}`, options);
  }
}

/**
 * Applies every pending migration, in name order, in one transaction under Kysely's migration
 * lock (so replicas starting together apply each migration once). Resolves with the names it
 * applied (empty when up to date). Throws MigrationError, leaving the schema as it was.
 */
export async function migrateToLatest<DB>(store: Store<DB>, migrations: Migrations): Promise<string[]> {
  return applied(await migrator(store, migrations).migrateToLatest(), "up");
}

/**
 * Reverts the last `steps` applied migrations (default 1; all of them if fewer are applied),
 * newest first, in one transaction. Resolves with the names it reverted. Throws a RangeError
 * for `steps` below 1 and MigrationError, leaving the schema as it was, when a `down` fails.
 */
export async function migrateDown<DB>(
  store: Store<DB>,
  migrations: Migrations,
  steps = 1,
): Promise<string[]> {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`steps must be a positive integer, got ${steps}`);
  }
  const m = migrator(store, migrations);
  const executed = (await m.getMigrations()).filter((info) => info.executedAt !== undefined);
  if (executed.length === 0) return [];
  const target = executed[executed.length - steps - 1]?.name ?? NO_MIGRATIONS;
  return applied(await m.migrateTo(target), "down");
}

/** Every known migration in run order, with when it was applied. Creates nothing. */
export async function migrationStatus<DB>(
  store: Store<DB>,
  migrations: Migrations,
): Promise<MigrationStatus[]> {
  const infos = await migrator(store, migrations).getMigrations();
  return infos.map(({ name, executedAt }) => (executedAt === undefined ? { name } : { name, executedAt }));
}

// A fresh Migrator per call over this store's own database: one process hosts several
// services, each with its own database and migrations, so nothing is shared between calls.
function migrator<DB>(store: Store<DB>, migrations: Migrations): Migrator {
  const kyselyMigrations: Record<string, KyselyMigration> = migrations;
  return new Migrator({
    db: store.db,
    provider: { getMigrations: async () => kyselyMigrations },
    allowUnorderedMigrations: false,
  });
}

function applied({ error, results = [] }: MigrationResultSet, direction: "up" | "down"): string[] {
  const failed = results.find((result) => result.status === "Error");
  // Checked both ways: a migration may throw `undefined`, leaving `error` unset.
  if (error !== undefined || failed !== undefined) {
    throw new MigrationError(failed?.migrationName, direction, { cause: error });
  }
  return results.filter((result) => result.status === "Success").map((result) => result.migrationName);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
