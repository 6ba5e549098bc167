import type { OpenPgliteOptions } from "./pglite/open-pglite.js";
import type { OpenPostgresOptions } from "./postgres/open-postgres.js";
import type { Store } from "./store.js";

/**
 * The adapters, each loaded on first use: the embedded path never loads `pg`, and a
 * PostgreSQL deployment never loads PGlite's WebAssembly. Each function behaves exactly like
 * the one it forwards to (see there for guarantees and failures).
 */

/** See pglite/open-pglite.ts. */
export async function openPglite<DB>(options: OpenPgliteOptions): Promise<Store<DB>> {
  const adapter = await import("./pglite/open-pglite.js");
  return adapter.openPglite<DB>(options);
}

/** See postgres/open-postgres.ts. */
export async function openPostgres<DB>(options: OpenPostgresOptions): Promise<Store<DB>> {
  const adapter = await import("./postgres/open-postgres.js");
  return adapter.openPostgres<DB>(options);
}

/** Creates database `name` on the server unless it exists; true if created. See postgres/ensure-database.ts. */
export async function ensurePostgresDatabase(serverUrl: string, name: string): Promise<boolean> {
  const admin = await import("./postgres/ensure-database.js");
  return admin.ensurePostgresDatabase(serverUrl, name);
}

/** Drops database `name` (forcing its sessions off) if it exists. See postgres/ensure-database.ts. */
export async function dropPostgresDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = await import("./postgres/ensure-database.js");
  return admin.dropPostgresDatabase(serverUrl, name);
}
