import pg from "pg";
import { isUniqueViolation, sqlState } from "../errors.js";
import { assertDatabaseName } from "./database-url.js";

const CONNECT_TIMEOUT_MS = 5_000;
// 42P04 duplicate_database: another process created it between our check and our CREATE.
const DUPLICATE_DATABASE = "42P04";

/**
 * Creates database `name` on the server `serverUrl` points at (any database the user may
 * connect to, usually `postgres`) unless it exists. Resolves true if this call created it.
 * Safe to race: a concurrent creator winning counts as "exists". Fails with a TypeError for
 * a name outside /^[a-z_][a-z0-9_]*$/, or with the driver's error when the server is
 * unreachable (after 5 s) or refuses (e.g. no CREATEDB privilege).
 */
export async function ensurePostgresDatabase(serverUrl: string, name: string): Promise<boolean> {
  assertDatabaseName(name);
  return withClient(serverUrl, async (client) => {
    const existing = await client.query("select 1 from pg_database where datname = $1", [name]);
    if (existing.rowCount !== 0) return false;
    try {
      // CREATE DATABASE takes no parameters; the name is validated above and quoted here.
      await client.query(`create database ${quoteIdentifier(name)}`);
      return true;
    } catch (err) {
      if (sqlState(err) === DUPLICATE_DATABASE || isUniqueViolation(err)) return false;
      throw err;
    }
  });
}

/**
 * Drops database `name` if it exists, disconnecting its sessions first (`WITH (FORCE)`,
 * PostgreSQL 13+). For tests and teardown; fails like ensurePostgresDatabase.
 */
export async function dropPostgresDatabase(serverUrl: string, name: string): Promise<void> {
  assertDatabaseName(name);
  await withClient(serverUrl, (client) =>
    client.query(`drop database if exists ${quoteIdentifier(name)} with (force)`),
  );
}

async function withClient<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: serverUrl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: "blossom-store",
  });
  // A connection dropped while idle must reject the query in flight, not crash the process.
  client.on("error", () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
