import type { Kysely } from "kysely";

/**
 * A service's own database. `db` is a Kysely instance over PostgreSQL (`pg` pool) or PGlite
 * (embedded, on disk); the same queries and migrations run on both.
 */
export interface Store<DB = unknown> {
  readonly kind: "pglite" | "postgres";
  readonly db: Kysely<DB>;
  /** Where the data lives, with any password removed (for logs and the ready table). */
  readonly location: string;
  /** Resolves when a trivial query succeeds (readiness probe). */
  ping(): Promise<void>;
  /** Closes the pool or the embedded database; safe to call twice. */
  close(): Promise<void>;
}
