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
    const connection: DatabaseConnection = {
      executeQuery: async <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
        if (!lent) throw new Error(`${this.service}: query on a released PGlite connection`);
        return this.cluster.execute<R>(query.sql, query.parameters);
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

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const begin = settings.isolationLevel
      ? `start transaction isolation level ${settings.isolationLevel}`
      : "begin";
    await connection.executeQuery(CompiledQuery.raw(begin));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("commit"));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("rollback"));
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
