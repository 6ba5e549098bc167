import { testAdapters } from "@blossom/testkit";
import { sql } from "kysely";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { openPostgres } from "./open-postgres.js";

const { store, postgresUrl } = testAdapters();

async function terminateBackend(pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  try {
    await admin.query("select pg_terminate_backend($1)", [pid]);
  } finally {
    await admin.end();
  }
}

describe("a PostgreSQL store whose connection is cut", () => {
  // Needs the server: runs when BLOSSOM_TEST_ADAPTERS names postgres, and then fails if it is down.
  it.runIf(store.includes("postgres"))(
    "survives a connection cut between two statements of a transaction, then serves again",
    async () => {
      const warnings: string[] = [];
      const db = await openPostgres<Record<string, never>>({
        service: "connection-loss-test",
        url: postgresUrl,
        onPoolError: (error) => warnings.push(error.message),
      });
      try {
        const failed = await db.db
          .transaction()
          .execute(async (trx) => {
            const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
            // The client is checked out and idle between statements: the pool does not listen to
            // it then, so without the store's own listener this 'error' would crash the process.
            await terminateBackend(rows[0]?.pid ?? 0);
            await new Promise((resolve) => setTimeout(resolve, 300));
            await sql`select 1`.execute(trx);
          })
          .then(
            () => undefined,
            (error: unknown) => error,
          );
        expect(failed).toBeInstanceOf(Error);
        expect(warnings.join(" ")).toMatch(/terminating connection|ECONNRESET|Connection terminated/);
        // The broken client went back and was dropped: the next query gets a fresh connection.
        const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db.db);
        expect(rows).toEqual([{ one: 1 }]);
      } finally {
        await db.close();
      }
    },
  );
});
