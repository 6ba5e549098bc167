import { testAdapters, testStoreFactories } from "@blossom/testkit";
import { type Kysely, sql } from "kysely";
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../store.js";
import { openPostgres } from "./open-postgres.js";

const { store: adapters } = testAdapters();
const postgres = testStoreFactories().find((factory) => factory.adapter === "postgres");

/** The prepared statements of the connection `db` runs on (pin it with a transaction). */
async function preparedOnThisConnection(db: Kysely<unknown>): Promise<string[]> {
  const { rows } = await sql<{ statement: string }>`
    select statement from pg_prepared_statements order by prepare_time`.execute(db);
  return rows.map((row) => row.statement);
}

/** Runs `statement` on a connection of its own, as another replica's migration would. */
async function elsewhere(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

// Needs the server: runs when BLOSSOM_TEST_ADAPTERS names postgres (npm run test:distributed),
// and then fails if it is down.
describe.runIf(adapters.includes("postgres"))(
  "PostgreSQL prepared statements (prepared-statements.ts)",
  () => {
    let store: Store<unknown>;
    let url: string;
    beforeAll(async () => {
      const database = await (postgres?.createDatabase() ?? Promise.reject(new Error("no postgres factory")));
      url = database.location;
      // One connection, so every statement below meets the names the previous ones prepared.
      store = await openPostgres({ url, service: "prepared-test", poolMax: 1 });
      await sql`create table items (id int primary key, value text)`.execute(store.db);
      await sql`insert into items values (1, 'one'), (2, 'two')`.execute(store.db);
      return async () => {
        await store.close();
        await database.destroy();
      };
    });
    const read = (db: Kysely<unknown>, id: number) =>
      sql<Record<string, unknown>>`select * from items where id = ${id}`.execute(db);

    it("prepares a data statement once per connection and runs it by name after that", async () => {
      expect((await read(store.db, 1)).rows).toEqual([{ id: 1, value: "one" }]);
      const prepared = await store.db.transaction().execute(async (trx) => {
        expect((await read(trx, 2)).rows).toEqual([{ id: 2, value: "two" }]);
        return preparedOnThisConnection(trx);
      });
      // Once, though it ran twice with different values.
      expect(prepared.filter((statement) => statement === "select * from items where id = $1")).toHaveLength(
        1,
      );
    });

    it("runs again, not fails, when another connection changed the columns it returns", async () => {
      await elsewhere(url, "alter table items add column extra text default 'x'");
      // PostgreSQL refuses the old plan ("cached plan must not change result type"): the
      // statement is prepared again under a new name and run at once (no transaction was open).
      expect((await read(store.db, 1)).rows).toEqual([{ id: 1, value: "one", extra: "x" }]);
      expect((await read(store.db, 2)).rows).toEqual([{ id: 2, value: "two", extra: "x" }]);
    });

    it("inside a transaction the refusal fails it, rolled back, and the retry works", async () => {
      await elsewhere(url, "alter table items add column more int default 7");
      const attempt = () =>
        store.db.transaction().execute(async (trx) => {
          await sql`update items set value = 'changed' where id = ${2}`.execute(trx);
          return (await read(trx, 1)).rows;
        });
      // The server's own error, SQLSTATE 0A000, which the services answer 503 (error-handler.ts).
      await expect(attempt()).rejects.toMatchObject({
        code: "0A000",
        message: expect.stringMatching(/cached plan must not change result type/),
      });
      // Nothing of the failed transaction stayed.
      const { rows } = await sql<{ value: string }>`select value from items where id = ${2}`.execute(
        store.db,
      );
      expect(rows).toEqual([{ value: "two" }]);
      expect(await attempt()).toEqual([{ id: 1, value: "one", extra: "x", more: 7 }]);
    });

    it("a schema change on the connection itself drops its names first: no refusal at all", async () => {
      expect((await read(store.db, 1)).rows).toHaveLength(1);
      await sql`alter table items drop column more`.execute(store.db);
      const rows = await store.db.transaction().execute(async (trx) => (await read(trx, 1)).rows);
      expect(rows).toEqual([{ id: 1, value: "one", extra: "x" }]);
    });

    it("a statement that fails to parse, or to run, fails the same way again and then works", async () => {
      const broken = () => sql`select nope from items where id = ${1}`.execute(store.db);
      await expect(broken()).rejects.toThrow(/column "nope" does not exist/);
      await expect(broken()).rejects.toThrow(/column "nope" does not exist/);
      const insert = (id: number) =>
        sql`insert into items (id, value) values (${id}, 'new')`.execute(store.db);
      await expect(insert(1)).rejects.toThrow(/duplicate key/);
      await insert(3);
      await expect(insert(3)).rejects.toThrow(/duplicate key/);
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from items`.execute(store.db);
      expect(rows).toEqual([{ n: 3 }]);
    });

    it("runs a statement whose text varies with its data unnamed: no plan kept per IN-list length", async () => {
      const ids = [1, 2, 3, 4, 5];
      const { rows } = await sql<{
        id: number;
      }>`select id from items where id in (${sql.join(ids)}) order by id`.execute(store.db);
      expect(rows.map((row) => row.id)).toEqual([1, 2, 3]);
      const prepared = await store.db.transaction().execute((trx) => preparedOnThisConnection(trx));
      expect(prepared.some((statement) => statement.includes("in ($1, $2, $3, $4, $5)"))).toBe(false);
    });
  },
);
