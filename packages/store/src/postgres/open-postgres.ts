import { createRequire } from "node:module";
import { Kysely, sql } from "kysely";
import type * as Pg from "pg";
import type { Store } from "../store.js";
import { PG_OID, parseDate, parseInt8 } from "../type-parsers.js";
import { maskPassword } from "./database-url.js";
import { OutcomeAwarePostgresDialect } from "./outcome-aware-dialect.js";
import { preparingPool } from "./prepared-statements.js";

export interface OpenPostgresOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** The owning service: the connections' `application_name`, so `pg_stat_activity` shows who is who. */
  service: string;
  /** Most connections this store opens. Default 10. */
  poolMax?: number;
  /**
   * Called when an idle pooled connection fails (server restart, network cut). The pool drops
   * that connection and opens a new one on demand; without a handler `pg` would crash the
   * process. Default: a process warning.
   */
  onPoolError?: (err: Error) => void;
}

const DEFAULT_POOL_MAX = 10;
const CONNECT_TIMEOUT_MS = 5_000;
const IDLE_TIMEOUT_MS = 30_000;

// Loaded through require, not import: the OpenTelemetry pg instrumentation patches `pg` in a
// require hook, which an ESM import never passes through (no query spans otherwise).
const pg = createRequire(import.meta.url)("pg") as typeof Pg;

/**
 * A store over a PostgreSQL server through a `pg` pool. Opening does not connect: the pool
 * connects on first use, so `ping()` is the reachability check. A query waits at most 5 s for
 * a connection, then fails with the driver's error. A connection lost while a COMMIT, or a
 * write outside a transaction, was in flight fails with `OutcomeUnknownError` instead: it may
 * have been committed.
 */
export async function openPostgres<DB>(options: OpenPostgresOptions): Promise<Store<DB>> {
  const poolMax = options.poolMax ?? DEFAULT_POOL_MAX;
  if (!Number.isInteger(poolMax) || poolMax < 1) {
    throw new RangeError(`${options.service}: poolMax must be a positive integer, got ${poolMax}`);
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: poolMax,
    application_name: options.service,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: IDLE_TIMEOUT_MS,
    // Per pool, not pg.types.setTypeParser: the process may hold other pools with other needs.
    types: portableTypes(),
  });
  const onPoolError =
    options.onPoolError ??
    ((err: Error) => process.emitWarning(`${options.service}: PostgreSQL connection failed: ${err.message}`));
  pool.on("error", onPoolError);
  // The pool listens for errors of idle clients only: a client checked out between two queries
  // (inside a transaction, say) whose connection is cut would emit an unhandled 'error' and
  // bring the process down. Its next query fails instead (answered 503, retried), and the pool
  // drops the broken client when it is released.
  pool.on("connect", (client) => {
    client.on("error", onPoolError);
  });
  const connections = trackConnections(pool);

  // A connection lost during a COMMIT (or a write outside a transaction) fails with an
  // OutcomeUnknownError, one lost before it with the driver's error (outcome-aware-dialect.ts).
  // Data statements are prepared once per connection and run by name (prepared-statements.ts).
  const db = new Kysely<DB>({ dialect: new OutcomeAwarePostgresDialect({ pool: preparingPool(pool) }) });
  let closed: Promise<void> | undefined;
  return {
    kind: "postgres",
    db,
    location: maskPassword(options.url),
    async ping() {
      await sql`select 1`.execute(db);
    },
    close() {
      // Destroying Kysely's driver ends the pool; the promise is kept so a second call waits too.
      closed ??= db.destroy().then(() => connections.closed());
      return closed;
    },
  };
}

// How long close() waits for the server connections to finish closing.
const CLOSE_WAIT_MS = 5_000;

/**
 * `pool.end()` resolves once every client is told to end, not once they have: this counts
 * connections so close() returns only when none is left (a DROP DATABASE right after close,
 * or the process exiting, then finds no session of ours).
 */
function trackConnections(pool: Pg.Pool): { closed(): Promise<void> } {
  let open = 0;
  let allClosed: (() => void) | undefined;
  pool.on("connect", () => {
    open++;
  });
  pool.on("remove", () => {
    open--;
    if (open === 0) allClosed?.();
  });
  return {
    closed() {
      if (open === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        allClosed = resolve;
        // Never hang shutdown on a connection that does not report its end.
        setTimeout(resolve, CLOSE_WAIT_MS).unref();
      });
    },
  };
}

/** The same JavaScript values PGlite returns (see type-parsers.ts). */
function portableTypes(): Pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  // text[]'s parser splits an array literal into strings (nulls kept), which the element parser then maps.
  // pg-types' TypeId enum lists scalar types only; the array OIDs are valid all the same.
  const getTypeParser = pg.types.getTypeParser as (oid: number) => (text: string) => Nested<string>[];
  const parseTextArray = getTypeParser(PG_OID.textArray);
  types.setTypeParser(PG_OID.int8, parseInt8);
  types.setTypeParser(PG_OID.date, parseDate);
  types.setTypeParser(PG_OID.int8Array, (text) => mapArray(parseTextArray(text), parseInt8));
  types.setTypeParser(PG_OID.dateArray, (text) => mapArray(parseTextArray(text), parseDate));
  return types;
}

type Nested<T> = T | null | Nested<T>[];

function mapArray<T>(values: Nested<string>[], parse: (text: string) => T): Nested<T>[] {
  return values.map((value) =>
    value === null ? null : Array.isArray(value) ? mapArray(value, parse) : parse(value),
  );
}
