import { join } from "node:path";
import { openPglite, openPostgres } from "./lazy-adapters.js";
import type { Store } from "./store.js";

export interface OpenStoreOptions {
  /** The owning service; names its PGlite directory and its PostgreSQL `application_name`. */
  service: string;
  /** Set: the service's PostgreSQL database. Unset: an embedded PGlite database. */
  databaseUrl?: string | undefined;
  /** Parent directory of the embedded cluster, `${dataDir}/pglite`, where this service has schema `${service}`. */
  dataDir: string;
  /** PostgreSQL only: most pooled connections. Default 10. */
  poolMax?: number;
  /** PostgreSQL only: told about idle connection failures (default: a process warning). */
  onPoolError?: (err: Error) => void;
}

/** The embedded cluster's directory under the data directory. */
export const EMBEDDED_CLUSTER_DIR = "pglite";

// The service name becomes a schema and role name: no separators, no "..".
const SERVICE_NAME = /^[a-z0-9][a-z0-9_-]*$/i;

/**
 * Opens a service's own database: PostgreSQL when `databaseUrl` is set, otherwise PGlite at
 * `${dataDir}/pglite` in schema `${service}` (created on first use). Only the chosen adapter's driver is loaded.
 * Fails with a TypeError for a service name that is not a plain identifier, otherwise as
 * openPostgres / openPglite do.
 */
export async function openStore<DB>(options: OpenStoreOptions): Promise<Store<DB>> {
  const { service, databaseUrl } = options;
  if (!SERVICE_NAME.test(service)) {
    throw new TypeError(`invalid service name ${JSON.stringify(service)}: expected ${SERVICE_NAME}`);
  }
  if (databaseUrl !== undefined && databaseUrl !== "") {
    return openPostgres<DB>({
      url: databaseUrl,
      service,
      poolMax: options.poolMax,
      onPoolError: options.onPoolError,
    });
  }
  // One embedded cluster for every service, each in its own schema and role (see pglite-cluster.ts).
  return openPglite<DB>({ dataDir: join(options.dataDir, EMBEDDED_CLUSTER_DIR), service });
}
