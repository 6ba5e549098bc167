import {
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  PostgresDialect,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from "kysely";
import { isLostInFlight, OutcomeUnknownError } from "../errors.js";
import { statementVerb } from "../statement-kinds.js";

/**
 * Kysely's PostgreSQL dialect, telling "lost before the commit" from "lost during it".
 *
 * A connection lost in the middle of a transaction rolls it back: the driver's error is passed on
 * as it is (the service answers 503, nothing was done). A connection lost while a COMMIT was in
 * flight, or while a write outside a transaction was (it commits by itself), may have lost only
 * the answer: that error becomes an `OutcomeUnknownError` (the service answers 504
 * `outcome-unknown`), whose `cause` is the driver's error. An error the server answered (a
 * deferred constraint, a serialization failure at COMMIT) is passed on as it is: nothing was
 * committed.
 */
export class OutcomeAwarePostgresDialect extends PostgresDialect {
  override createDriver(): Driver {
    return new OutcomeAwareDriver(super.createDriver());
  }
}

/** Statements that read, or only control the session or the transaction: none of them commits data. */
const READS = /^\s*(?:select|values|table|with)\b/i;
const CONTROL =
  /^\s*(?:show|explain|begin|start|rollback|abort|savepoint|release|set|reset|discard|listen|unlisten)\b/i;
const DML = /\b(?:insert|update|delete|merge)\b/i;

/** Whether a statement run outside a transaction may have changed data (and committed it) by itself. */
export function mayCommitAlone(text: string): boolean {
  if (READS.test(text)) return DML.test(text);
  return !CONTROL.test(text);
}

class TrackedConnection implements DatabaseConnection {
  inTransaction = false;
  /** The COMMIT's error, until the ROLLBACK Kysely sends after a failed COMMIT is done. */
  commitError: unknown;

  constructor(readonly inner: DatabaseConnection) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.inner.executeQuery<R>(compiledQuery);
    } catch (error) {
      if (!this.inTransaction && isLostInFlight(error) && mayCommitAlone(compiledQuery.sql))
        throw new OutcomeUnknownError(statementVerb(compiledQuery.sql), error);
      throw error;
    }
  }

  streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(compiledQuery, chunkSize);
  }
}

const tracked = (connection: DatabaseConnection) => connection as TrackedConnection;

/** The dialect's own driver, with each connection tracked in or out of a transaction. */
class OutcomeAwareDriver implements Driver {
  readonly #inner: Driver;

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new TrackedConnection(await this.#inner.acquireConnection());
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    // Inside from the BEGIN on: a BEGIN whose connection is lost commits nothing either.
    tracked(connection).inTransaction = true;
    await this.#inner.beginTransaction(tracked(connection).inner, settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await this.#inner.commitTransaction(tracked(connection).inner);
    } catch (error) {
      const failed = isLostInFlight(error) ? new OutcomeUnknownError("COMMIT", error) : error;
      tracked(connection).commitError = failed;
      throw failed;
    } finally {
      tracked(connection).inTransaction = false;
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const { commitError } = tracked(connection);
    tracked(connection).commitError = undefined;
    try {
      await this.#inner.rollbackTransaction(tracked(connection).inner);
    } catch (error) {
      // Kysely rolls back after a failed COMMIT and throws the ROLLBACK's error if that fails
      // too (as it does on a lost connection): what the caller must hear is the COMMIT's.
      throw commitError ?? error;
    } finally {
      tracked(connection).inTransaction = false;
    }
  }

  async savepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await this.#inner.savepoint?.(tracked(connection).inner, name, compileQuery);
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await this.#inner.rollbackToSavepoint?.(tracked(connection).inner, name, compileQuery);
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await this.#inner.releaseSavepoint?.(tracked(connection).inner, name, compileQuery);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(tracked(connection).inner);
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}
