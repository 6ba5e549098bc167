/**
 * Recognising PostgreSQL errors by SQLSTATE, the same way for `pg` and PGlite: both raise an
 * error carrying the server's `code` (SQLSTATE), `severity` and, for constraint errors,
 * `constraint`. Errors wrapped by other code (`cause`, e.g. a `MigrationError`) are unwrapped.
 */

/** SQLSTATE codes the services branch on. https://www.postgresql.org/docs/current/errcodes-appendix.html */
export const SQLSTATE = {
  uniqueViolation: "23505",
  foreignKeyViolation: "23503",
  checkViolation: "23514",
  notNullViolation: "23502",
  serializationFailure: "40001",
  deadlockDetected: "40P01",
} as const;

const SQLSTATE_PATTERN = /^[0-9A-Z]{5}$/;
// How many `cause` links to follow: wrappers are shallow, and a cycle must not loop forever.
const MAX_CAUSE_DEPTH = 5;

interface DatabaseErrorFields {
  code: string;
  severity: string;
  constraint?: string;
}

/** The database error itself, or the first one in its `cause` chain; undefined if none. */
function findDatabaseError(err: unknown): DatabaseErrorFields | undefined {
  let current: unknown = err;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && typeof current === "object" && current !== null; depth++) {
    const candidate = current as Partial<Record<keyof DatabaseErrorFields | "cause", unknown>>;
    // `severity` tells a server error from a Node system error such as EPIPE, whose `code`
    // also happens to be five capital letters.
    if (
      typeof candidate.code === "string" &&
      SQLSTATE_PATTERN.test(candidate.code) &&
      typeof candidate.severity === "string"
    ) {
      return candidate as DatabaseErrorFields;
    }
    current = candidate.cause;
  }
  return undefined;
}

/** The SQLSTATE of a PostgreSQL error (or of the one it wraps); undefined for any other error. */
export function sqlState(err: unknown): string | undefined {
  return findDatabaseError(err)?.code;
}

/** The constraint a constraint-violation error names (e.g. "users_email_key"), if any. */
export function violatedConstraint(err: unknown): string | undefined {
  const constraint = findDatabaseError(err)?.constraint;
  return typeof constraint === "string" && constraint !== "" ? constraint : undefined;
}

/** A unique or primary key constraint rejected the write (23505): the row already exists. */
export function isUniqueViolation(err: unknown): boolean {
  return sqlState(err) === SQLSTATE.uniqueViolation;
}

/** A foreign key constraint rejected the write (23503): the referenced row is missing or still referenced. */
export function isForeignKeyViolation(err: unknown): boolean {
  return sqlState(err) === SQLSTATE.foreignKeyViolation;
}

/** A CHECK constraint rejected the write (23514). */
export function isCheckViolation(err: unknown): boolean {
  return sqlState(err) === SQLSTATE.checkViolation;
}

/** A NOT NULL constraint rejected the write (23502). */
export function isNotNullViolation(err: unknown): boolean {
  return sqlState(err) === SQLSTATE.notNullViolation;
}

/**
 * The transaction lost a race and was rolled back (40001 serialization failure or 40P01
 * deadlock): retrying the whole transaction is safe and expected.
 */
export function isSerializationFailure(err: unknown): boolean {
  const code = sqlState(err);
  return code === SQLSTATE.serializationFailure || code === SQLSTATE.deadlockDetected;
}
