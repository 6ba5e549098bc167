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

/** The `code` of `OutcomeUnknownError`, which `@blossom/runtime` answers 504 `outcome-unknown`. */
export const OUTCOME_UNKNOWN_CODE = "DATABASE_OUTCOME_UNKNOWN";

/**
 * The connection to the server was lost while a statement that commits was in flight: a COMMIT,
 * or a write outside a transaction (which commits by itself). The server may have committed it
 * before the connection went, or not: nobody can tell from here. Unlike a connection lost before
 * the commit was sent (the transaction then surely rolled back: the plain driver error, answered
 * 503), a retry is safe only where the request is idempotent (an `Idempotency-Key`, a PUT). The
 * driver's error is the `cause`.
 */
export class OutcomeUnknownError extends Error {
  readonly code = OUTCOME_UNKNOWN_CODE;
  readonly outcomeUnknown = true;
  /** What was in flight: "COMMIT", or the first word of the write (INSERT, UPDATE, …). */
  readonly statement: string;

  constructor(statement: string, cause: unknown) {
    super(`the database connection was lost during ${statement}: it may or may not have been committed`, {
      cause,
    });
    this.name = "OutcomeUnknownError";
    this.statement = statement;
  }
}

/** A commit whose outcome is unknown (see `OutcomeUnknownError`). */
export function isOutcomeUnknown(err: unknown): err is OutcomeUnknownError {
  return err instanceof OutcomeUnknownError;
}

/**
 * The connection was lost while the statement was in flight (the server ended it: 57P01-57P03 or
 * class 08; or the socket failed). Not a statement the driver refused to send on a connection
 * already known broken ("… is not queryable"): that one never reached the server.
 */
const LOST_IN_FLIGHT_CODES = new Set(["57P01", "57P02", "57P03", "ECONNRESET", "EPIPE", "ETIMEDOUT"]);

export function isLostInFlight(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof message === "string" && /not queryable/.test(message)) return false;
  if (typeof code === "string" && (LOST_IN_FLIGHT_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code)))
    return true;
  return typeof message === "string" && /^Connection terminated/.test(message);
}
