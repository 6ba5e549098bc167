import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from "kysely";
import type { PgliteCluster } from "./pglite-cluster.js";

/**
 * Kysely over one service's share of a PgliteCluster. Written here rather than taken from
 * `kysely-pglite-dialect` because that driver owns its PGlite and queues only its own
 * connections: two services on one PGlite would interleave their transactions' statements.
 */
export class PgliteServiceDialect implements Dialect {
  constructor(
    private readonly cluster: PgliteCluster,
    private readonly service: string,
  ) {}

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createDriver(): Driver {
    return new PgliteServiceDriver(this.cluster, this.service);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}

/** A borrowed connection, with the BEGIN waiting to go with its transaction's first statement. */
interface PgliteConnection extends DatabaseConnection {
  pendingBegin?: string | undefined;
}

class PgliteServiceDriver implements Driver {
  readonly #releases = new WeakMap<DatabaseConnection, () => void>();
  #destroyed = false;

  constructor(
    private readonly cluster: PgliteCluster,
    private readonly service: string,
  ) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.#destroyed) throw new Error(`${this.service}: the database is closed`);
    let lent = true;
    const release = await this.cluster.borrow(this.service);
    const connection: PgliteConnection = {
      executeQuery: async <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
        if (!lent) throw new Error(`${this.service}: query on a released PGlite connection`);
        const begin = connection.pendingBegin;
        connection.pendingBegin = undefined;
        return this.cluster.execute<R>(query.sql, query.parameters, begin);
      },
      // PGlite returns whole results; chunks are cut from one.
      streamQuery: async function* <R>(query: CompiledQuery, chunkSize?: number) {
        const size = chunkSize ?? 100;
        if (!Number.isInteger(size) || size <= 0) throw new Error("chunkSize must be a positive integer");
        const { rows } = await connection.executeQuery<R>(query);
        for (let i = 0; i < rows.length; i += size) yield { rows: rows.slice(i, i + size) };
      },
    };
    this.#releases.set(connection, () => {
      lent = false;
      release();
    });
    return connection;
  }

  /**
   * Sends nothing yet: BEGIN goes in the same trip as the transaction's first statement (one
   * trip fewer per transaction; a checkout runs about 16).
   */
  async beginTransaction(connection: PgliteConnection, settings: TransactionSettings): Promise<void> {
    connection.pendingBegin = settings.isolationLevel
      ? `start transaction isolation level ${settings.isolationLevel}`
      : "begin";
  }

  async commitTransaction(connection: PgliteConnection): Promise<void> {
    // A transaction that ran no statement never began.
    if (connection.pendingBegin !== undefined) connection.pendingBegin = undefined;
    else await connection.executeQuery(CompiledQuery.raw("commit"));
  }

  async rollbackTransaction(connection: PgliteConnection): Promise<void> {
    if (connection.pendingBegin !== undefined) connection.pendingBegin = undefined;
    else await connection.executeQuery(CompiledQuery.raw("rollback"));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.#releases.get(connection)?.();
    this.#releases.delete(connection);
  }

  /** Refuses further queries. The store detaches the service from the cluster (Kysely skips this for a driver that never ran a query). */
  async destroy(): Promise<void> {
    this.#destroyed = true;
  }
}
