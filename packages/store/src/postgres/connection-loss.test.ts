import { testAdapters } from "@blossom/testkit";
import { sql } from "kysely";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { isOutcomeUnknown, OutcomeUnknownError } from "../errors.js";
import { openPostgres } from "./open-postgres.js";
import { mayCommitAlone } from "./outcome-aware-dialect.js";

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
        // Lost before the COMMIT was sent: the server rolled the transaction back, nothing was done.
        expect(isOutcomeUnknown(failed)).toBe(false);
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

/** Runs `statement` and cuts its connection (backend `pid`) 300 ms into it; resolves to what it threw. */
async function cutDuring(pid: number, statement: () => Promise<unknown>): Promise<unknown> {
  const cut = new Promise((resolve) => setTimeout(resolve, 300)).then(() => terminateBackend(pid));
  const failed = await statement().then(
    () => undefined,
    (error: unknown) => error,
  );
  await cut;
  return failed;
}

describe("a PostgreSQL store whose connection is cut while a commit is in flight", () => {
  it.runIf(store.includes("postgres"))(
    "fails a COMMIT in flight with OutcomeUnknownError (it may have committed), the driver's error as cause",
    async () => {
      const db = await openPostgres<Record<string, never>>({
        service: "connection-loss-test",
        url: postgresUrl,
        poolMax: 1,
        onPoolError: () => {},
      });
      try {
        let pid = 0;
        const failed = await db.db
          .transaction()
          .execute(async (trx) => {
            const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
            pid = rows[0]?.pid ?? 0;
            // A deferred constraint trigger that sleeps: the COMMIT itself takes 3 s.
            await sql`create temp table commit_gate (id int)`.execute(trx);
            await sql`create function pg_temp.slow_commit() returns trigger language plpgsql as $$ begin perform pg_sleep(3); return null; end $$`.execute(
              trx,
            );
            await sql`create constraint trigger slow_commit after insert on commit_gate deferrable initially deferred for each row execute function pg_temp.slow_commit()`.execute(
              trx,
            );
            await sql`insert into commit_gate values (1)`.execute(trx);
            // Cut the connection 300 ms into the COMMIT Kysely sends once this returns.
            setTimeout(() => void terminateBackend(pid), 300);
          })
          .then(
            () => undefined,
            (error: unknown) => error,
          );
        expect(failed).toBeInstanceOf(OutcomeUnknownError);
        expect((failed as OutcomeUnknownError).statement).toBe("COMMIT");
        expect((failed as OutcomeUnknownError).code).toBe("DATABASE_OUTCOME_UNKNOWN");
        expect(String((failed as Error).cause)).toMatch(/terminating connection|Connection terminated/);
        await new Promise((resolve) => setTimeout(resolve, 100));
        const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db.db);
        expect(rows).toEqual([{ one: 1 }]);
      } finally {
        await db.close();
      }
    },
  );

  it.runIf(store.includes("postgres"))(
    "fails a write outside a transaction with OutcomeUnknownError, and a read with the driver's error",
    async () => {
      const db = await openPostgres<Record<string, never>>({
        service: "connection-loss-test",
        url: postgresUrl,
        poolMax: 1,
        onPoolError: () => {},
      });
      const backend = async () =>
        (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db.db)).rows[0]?.pid ?? 0;
      try {
        await sql`create temp table autocommit_target (id int)`.execute(db.db);
        const write = await cutDuring(await backend(), () =>
          sql`insert into autocommit_target select 1 from pg_sleep(3)`.execute(db.db),
        );
        expect(write).toBeInstanceOf(OutcomeUnknownError);
        expect((write as OutcomeUnknownError).statement).toBe("INSERT");

        await new Promise((resolve) => setTimeout(resolve, 100));
        const read = await cutDuring(await backend(), () => sql`select pg_sleep(3)`.execute(db.db));
        expect(read).toBeInstanceOf(Error);
        expect(isOutcomeUnknown(read)).toBe(false);
      } finally {
        await db.close();
      }
    },
  );
});

describe("which statements commit by themselves outside a transaction", () => {
  it("counts writes and data-modifying CTEs, not reads or session control", () => {
    for (const text of [
      "insert into t values (1)",
      'update "orders" set "status" = $1',
      "delete from t",
      "with x as (insert into t values (1) returning id) select * from x",
      "create table t (id int)",
      "commit",
    ])
      expect(mayCommitAlone(text), text).toBe(true);
    for (const text of [
      'select "updated_at" from "orders"',
      "  SELECT 1",
      "with x as (select 1) select * from x",
      "set role orders_app",
      "begin",
      "rollback",
    ])
      expect(mayCommitAlone(text), text).toBe(false);
  });
});
