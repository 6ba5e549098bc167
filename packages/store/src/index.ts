/**
 * @blossom/store: each service's own PostgreSQL database, embedded (PGlite) or on a server,
 * behind one Kysely API, with migrations and portable error recognition.
 *
 * Importing this module loads neither driver: `openStore` and the adapter functions import
 * theirs on first use.
 */
export {
  isCheckViolation,
  isForeignKeyViolation,
  isNotNullViolation,
  isOutcomeUnknown,
  isSerializationFailure,
  isUniqueViolation,
  OUTCOME_UNKNOWN_CODE,
  OutcomeUnknownError,
  SQLSTATE,
  sqlState,
  violatedConstraint,
} from "./errors.js";
export { dropPostgresDatabase, ensurePostgresDatabase, openPglite, openPostgres } from "./lazy-adapters.js";
export {
  type Migration,
  MigrationError,
  type MigrationStatus,
  type Migrations,
  migrateDown,
  migrateToLatest,
  migrationStatus,
} from "./migrator.js";
export { type OpenStoreOptions, openStore } from "./open-store.js";
export { DataDirLockedError } from "./pglite/data-dir-lock.js";
export type { OpenPgliteOptions } from "./pglite/open-pglite.js";
export { assertDatabaseName, maskPassword, withDatabaseName } from "./postgres/database-url.js";
export type { OpenPostgresOptions } from "./postgres/open-postgres.js";
export type { Store } from "./store.js";
export { parseDate, parseInt8 } from "./type-parsers.js";
