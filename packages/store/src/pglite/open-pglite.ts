import { resolve } from "node:path";
import { Kysely, sql } from "kysely";
import type { Store } from "../store.js";
import { DataDirLockedError } from "./data-dir-lock.js";
import { PgliteCluster } from "./pglite-cluster.js";
import { PgliteServiceDialect } from "./pglite-dialect.js";

export interface OpenPgliteOptions {
  /**
   * Directory of the embedded cluster, created if missing, shared by every service opened on
   * it (each in its own schema and role); undefined: a private cluster in a temporary directory, deleted when the store closes.
   */
  dataDir?: string;
  /** The owning service, for error messages; names its schema and role unless `schema` is set. */
  service: string;
  /** The schema and role, when not the service's name (e.g. a test database of its own). */
  schema?: string;
}

/** `location` of a store on a private temporary cluster. */
export const PGLITE_TEMPORARY = "temporary";

// The clusters open in this process, by directory. Module state on purpose: a directory can be
// opened by one PGlite only, whichever service asks first (see pglite-cluster.ts).
const clusters = new Map<string, Promise<PgliteCluster>>();

/**
 * Opens a service's schema in the embedded PostgreSQL at `dataDir` (opening, and on first use
 * initialising, the cluster when no other service in this process has it open).
 *
 * Cost, measured on a 2-core dev container: the first open in a process loads the WebAssembly
 * (about 1 s; a new cluster starts from a cached initialised one instead of a 2 s initdb);
 * every further service on the same cluster costs one schema check (milliseconds).
 *
 * PGlite has a single connection shared by the services on it: Kysely queries and transactions
 * are queued and run one at a time. Inside `db.transaction().execute(cb)` use only the
 * transaction handed to `cb`: a query on `db` itself (or any other service's work on the same
 * cluster, e.g. through an HTTP call made inside the transaction) would wait for the
 * transaction to end, which waits for that query: a deadlock.
 *
 * Fails with DataDirLockedError when the service is already open on that cluster here, or the
 * directory is held by another live process, or with an Error naming the service and directory
 * (cause attached) when PGlite cannot start.
 */
export async function openPglite<DB>(options: OpenPgliteOptions): Promise<Store<DB>> {
  const { service } = options;
  const schema = options.schema ?? service;
  const dataDir = options.dataDir === undefined ? undefined : resolve(options.dataDir);
  let cluster: PgliteCluster;
  try {
    if (dataDir === undefined) {
      cluster = await PgliteCluster.open(undefined);
    } else {
      cluster = await sharedCluster(dataDir);
      // Its last service may have started closing it meanwhile: wait, then open it anew.
      while (cluster.isClosing) {
        await cluster.close();
        cluster = await sharedCluster(dataDir);
      }
    }
    // No await between the check above and here: attach reserves the service synchronously.
    await cluster.attach(schema);
  } catch (err) {
    if (err instanceof DataDirLockedError || err instanceof TypeError) throw err;
    throw new Error(`${service}: cannot open PGlite at ${dataDir ?? PGLITE_TEMPORARY}`, { cause: err });
  }

  const db = new Kysely<DB>({ dialect: new PgliteServiceDialect(cluster, schema) });
  let closed: Promise<void> | undefined;
  return {
    kind: "pglite",
    db,
    location: dataDir === undefined ? PGLITE_TEMPORARY : `${dataDir} (schema ${schema})`,
    async ping() {
      await sql`select 1`.execute(db);
    },
    close() {
      // Kysely first (no new queries), then the cluster, which closes when its last service leaves.
      closed ??= db.destroy().finally(() => cluster.detach(schema));
      return closed;
    },
  };
}

/** The cluster at `dataDir`, opened by the first service to ask; forgotten once closed. */
function sharedCluster(dataDir: string): Promise<PgliteCluster> {
  const known = clusters.get(dataDir);
  if (known) return known;
  const opening = PgliteCluster.open(dataDir, () => {
    if (clusters.get(dataDir) === opening) clusters.delete(dataDir);
  });
  clusters.set(dataDir, opening);
  opening.catch(() => {
    if (clusters.get(dataDir) === opening) clusters.delete(dataDir);
  });
  return opening;
}
