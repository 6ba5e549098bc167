import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { Kysely, sql } from "kysely";
import { PGliteDialect } from "kysely-pglite-dialect";
import type { Store } from "../store.js";
import { PG_OID, parseDate, parseInt8 } from "../type-parsers.js";
import { DataDirLockedError, lockDataDir } from "./data-dir-lock.js";
import { isInitialised, pgliteTemplate } from "./pglite-template.js";

export interface OpenPgliteOptions {
  /** Directory holding the database files, created if missing; undefined keeps everything in memory. */
  dataDir?: string;
  /** The owning service, for error messages. */
  service: string;
}

/** `location` of an in-memory PGlite store. */
export const PGLITE_IN_MEMORY = "memory";

/**
 * Opens (and on first use initialises) an embedded PostgreSQL in this process.
 *
 * Cost, measured on a 2-core dev container: initdb takes about 2 s
 * idle (3-5 s under load), paid once per PGlite version (new databases start from a cached
 * template, ~0.5 s), plus 1-3 s for the first open in a process,
 * which loads the WebAssembly; reopening an existing data directory takes about 0.4-0.5 s.
 *
 * PGlite has a single connection: Kysely queries and transactions are queued and run one at a
 * time, so transactions never interleave. Inside `db.transaction().execute(cb)` use only the
 * transaction handed to `cb`: a query on `db` itself would wait for the transaction to end, which
 * waits for that query: a deadlock.
 *
 * Fails with DataDirLockedError when the directory is already open (here or in another live
 * process: two instances would corrupt it), or with an Error naming the service and directory
 * (cause attached) when PGlite cannot start.
 */
export async function openPglite<DB>(options: OpenPgliteOptions): Promise<Store<DB>> {
  const dataDir = options.dataDir === undefined ? undefined : resolve(options.dataDir);
  let unlock: (() => Promise<void>) | undefined;
  let pglite: PGlite;
  try {
    if (dataDir !== undefined) {
      await mkdir(dataDir, { recursive: true });
      unlock = await lockDataDir(dataDir);
    }
    // A new database starts from an initialised cluster instead of running initdb (see pglite-template.ts).
    const loadDataDir = isInitialised(dataDir) ? undefined : await pgliteTemplate();
    pglite = await PGlite.create({
      dataDir,
      ...(loadDataDir ? { loadDataDir } : {}),
      parsers: {
        [PG_OID.int8]: parseInt8,
        [PG_OID.date]: parseDate,
      },
    });
  } catch (err) {
    await unlock?.();
    if (err instanceof DataDirLockedError) throw err;
    throw new Error(`${options.service}: cannot open PGlite at ${dataDir ?? PGLITE_IN_MEMORY}`, {
      cause: err,
    });
  }

  // Destroying Kysely's driver closes PGlite too.
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
  let closed: Promise<void> | undefined;
  return {
    kind: "pglite",
    db,
    location: dataDir ?? PGLITE_IN_MEMORY,
    async ping() {
      await sql`select 1`.execute(db);
    },
    close() {
      closed ??= (async () => {
        try {
          await db.destroy();
        } finally {
          await unlock?.();
        }
      })();
      return closed;
    },
  };
}
