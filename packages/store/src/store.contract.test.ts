import { testStoreFactories } from "@blossom/testkit";
import { type ColumnType, type Generated, type Insertable, type Kysely, sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import {
  isCheckViolation,
  isForeignKeyViolation,
  isNotNullViolation,
  isSerializationFailure,
  isUniqueViolation,
  MigrationError,
  type Migrations,
  migrateDown,
  migrateToLatest,
  migrationStatus,
  type Store,
  sqlState,
  violatedConstraint,
} from "./index.js";

interface TestDB {
  counters: { id: string; value: number };
  ledger: {
    id: Generated<number>;
    counter_id: string | null;
    amount_minor: number;
    quantity: number;
    // jsonb is written as JSON text: `pg` would turn a top-level JS array into a Postgres array literal.
    payload: ColumnType<unknown, string, string>;
    at: Generated<Date>; // defaults to now()
    day: string | null;
  };
}

const migrations: Migrations = {
  "0001_counters": {
    async up(db) {
      await db.schema
        .createTable("counters")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("value", "integer", (col) => col.notNull().check(sql`value >= 0`))
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("counters").execute();
    },
  },
  "0002_ledger": {
    async up(db) {
      await db.schema
        .createTable("ledger")
        .addColumn("id", "serial", (col) => col.primaryKey())
        .addColumn("counter_id", "text", (col) => col.references("counters.id"))
        .addColumn("amount_minor", "bigint", (col) => col.notNull())
        .addColumn("quantity", "integer", (col) => col.notNull())
        .addColumn("payload", "jsonb", (col) => col.notNull())
        .addColumn("at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
        .addColumn("day", "date")
        .execute();
    },
    async down(db) {
      await db.schema.dropTable("ledger").execute();
    },
  },
};

const broken: Migrations = {
  "0003_broken": {
    async up(db) {
      await sql`alter table no_such_table add column x integer`.execute(db);
    },
    async down() {},
  },
};

async function tableNames(db: Kysely<TestDB>): Promise<string[]> {
  return (await db.introspection.getTables())
    .map((table) => table.name)
    .filter((name) => !name.startsWith("kysely_"))
    .sort();
}

function aLedgerRow(overrides: Partial<Insertable<TestDB["ledger"]>> = {}): Insertable<TestDB["ledger"]> {
  return { amount_minor: 1, quantity: 1, payload: "{}", ...overrides };
}

const factories = testStoreFactories();

// BLOSSOM_TEST_ADAPTERS may name only bus adapters (e.g. "nats"): then there is nothing to run
// here, which vitest would otherwise report as a failed, empty file.
describe.skipIf(factories.length > 0)("Store contract", () => {
  it.skip("needs a store adapter (pglite or postgres) in BLOSSOM_TEST_ADAPTERS", () => {});
});

describe.each(factories)("Store on $adapter", (factory) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
  });

  async function freshStore(): Promise<Store<TestDB>> {
    const store = await factory.openStore<TestDB>();
    cleanups.push(() => store.close());
    return store;
  }

  async function migratedStore(): Promise<Store<TestDB>> {
    const store = await freshStore();
    await migrateToLatest(store, migrations);
    return store;
  }

  describe("migrations", () => {
    it("migrate to latest creates the tables and records them", async () => {
      const store = await freshStore();
      expect(await migrationStatus(store, migrations)).toEqual([
        { name: "0001_counters" },
        { name: "0002_ledger" },
      ]);

      expect(await migrateToLatest(store, migrations)).toEqual(["0001_counters", "0002_ledger"]);
      expect(await tableNames(store.db)).toEqual(["counters", "ledger"]);
      const status = await migrationStatus(store, migrations);
      expect(status.map((s) => s.name)).toEqual(["0001_counters", "0002_ledger"]);
      for (const s of status) expect(s.executedAt).toBeInstanceOf(Date);

      expect(await migrateToLatest(store, migrations)).toEqual([]);
    });

    it("migrate down reverts the last migration; up re-applies it", async () => {
      const store = await migratedStore();
      expect(await migrateDown(store, migrations)).toEqual(["0002_ledger"]);
      expect(await tableNames(store.db)).toEqual(["counters"]);
      const status = await migrationStatus(store, migrations);
      expect(status[0]?.executedAt).toBeInstanceOf(Date);
      expect(status[1]).toEqual({ name: "0002_ledger" });

      expect(await migrateToLatest(store, migrations)).toEqual(["0002_ledger"]);
      expect(await tableNames(store.db)).toEqual(["counters", "ledger"]);
    });

    it("migrate down by more steps than applied reverts everything", async () => {
      const store = await migratedStore();
      await expect(migrateDown(store, migrations, 0)).rejects.toThrow(RangeError);
      expect(await migrateDown(store, migrations, 5)).toEqual(["0002_ledger", "0001_counters"]);
      expect(await tableNames(store.db)).toEqual([]);
      expect(await migrateDown(store, migrations)).toEqual([]);
    });

    it("a failing migration raises MigrationError naming it; earlier runs stay applied", async () => {
      const store = await migratedStore();
      const error = await migrateToLatest(store, { ...migrations, ...broken }).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(MigrationError);
      expect(error).toMatchObject({ migration: "0003_broken", direction: "up" });
      expect((error as Error).message).toMatch(/0003_broken/);
      expect(sqlState(error)).toBe("42P01"); // undefined_table, found through `cause`

      const status = await migrationStatus(store, { ...migrations, ...broken });
      expect(status.map((s) => s.executedAt !== undefined)).toEqual([true, true, false]);
      expect(await tableNames(store.db)).toEqual(["counters", "ledger"]);
    });

    it("a failing run is rolled back as a whole", async () => {
      const store = await freshStore();
      await expect(migrateToLatest(store, { ...migrations, ...broken })).rejects.toMatchObject({
        name: "MigrationError",
        migration: "0003_broken",
      });
      const status = await migrationStatus(store, { ...migrations, ...broken });
      expect(status.every((s) => s.executedAt === undefined)).toBe(true);
      expect(await tableNames(store.db)).toEqual([]);
    });

    it("refuses a new migration that sorts before an applied one", async () => {
      const store = await migratedStore();
      const early: Migrations = { "0000_early": { async up() {}, async down() {} }, ...migrations };
      const error = await migrateToLatest(store, early).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(MigrationError);
      expect(error).toMatchObject({ migration: undefined });
      expect((error as Error).message).toMatch(/corrupted migrations/);
    });
  });

  describe("transactions", () => {
    it("commit", async () => {
      const store = await migratedStore();
      await store.db.transaction().execute(async (trx) => {
        await trx.insertInto("counters").values({ id: "a", value: 1 }).execute();
        await trx.insertInto("counters").values({ id: "b", value: 2 }).execute();
      });
      expect(await store.db.selectFrom("counters").select(["id", "value"]).orderBy("id").execute()).toEqual([
        { id: "a", value: 1 },
        { id: "b", value: 2 },
      ]);
    });

    it("counts the rows a statement affected and returns its rows, first in a transaction too", async () => {
      const store = await migratedStore();
      const inserted = await store.db
        .insertInto("counters")
        .values([
          { id: "a", value: 1 },
          { id: "b", value: 2 },
          { id: "c", value: 3 },
        ])
        .executeTakeFirst();
      expect(inserted.numInsertedOrUpdatedRows).toBe(3n);
      // The first statement of a transaction travels with its BEGIN (PGlite): its own count only.
      const updated = await store.db.transaction().execute((trx) =>
        trx
          .updateTable("counters")
          .set((eb) => ({ value: eb("value", "+", 10) }))
          .where("id", "in", ["a", "b"])
          .returning(["id", "value"])
          .execute(),
      );
      expect(updated.sort((x, y) => x.id.localeCompare(y.id))).toEqual([
        { id: "a", value: 11 },
        { id: "b", value: 12 },
      ]);
      const nothing = await store.db
        .updateTable("counters")
        .set({ value: 0 })
        .where("id", "=", "z")
        .executeTakeFirst();
      expect(nothing.numUpdatedRows).toBe(0n);
      const deleted = await store.db.deleteFrom("counters").where("value", ">", 10).executeTakeFirst();
      expect(deleted.numDeletedRows).toBe(2n);
      const { rows } = await sql<{
        n: number | null;
        missing: string | null;
        list: number[];
      }>`select 1 as n, null::text as missing, array[1, 2] as list union all select null, 'x', array[]::int[]`.execute(
        store.db,
      );
      expect(rows).toEqual([
        { n: 1, missing: null, list: [1, 2] },
        { n: null, missing: "x", list: [] },
      ]);
    });

    it("roll back when the callback throws", async () => {
      const store = await migratedStore();
      const boom = new Error("boom");
      await expect(
        store.db.transaction().execute(async (trx) => {
          await trx.insertInto("counters").values({ id: "a", value: 1 }).execute();
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await store.db.selectFrom("counters").selectAll().execute()).toEqual([]);
      // The store is still usable after the rollback.
      await store.db.insertInto("counters").values({ id: "a", value: 1 }).execute();
    });

    it("20 concurrent read-modify-write transactions do not lose an update", async () => {
      const store = await migratedStore();
      await store.db.insertInto("counters").values({ id: "c", value: 0 }).execute();
      await Promise.all(
        Array.from({ length: 20 }, () =>
          store.db.transaction().execute(async (trx) => {
            const { value } = await trx
              .selectFrom("counters")
              .select("value")
              .where("id", "=", "c")
              .forUpdate()
              .executeTakeFirstOrThrow();
            // Yield between read and write so that unserialised transactions would interleave.
            await new Promise((resolve) => setTimeout(resolve, 1));
            await trx
              .updateTable("counters")
              .set({ value: value + 1 })
              .where("id", "=", "c")
              .execute();
          }),
        ),
      );
      const { value } = await store.db
        .selectFrom("counters")
        .select("value")
        .where("id", "=", "c")
        .executeTakeFirstOrThrow();
      expect(value).toBe(20);
    });

    it.runIf(factory.adapter === "postgres")(
      "a serializable write-skew conflict is recognised by isSerializationFailure",
      async () => {
        const store = await migratedStore();
        await store.db
          .insertInto("counters")
          .values([
            { id: "a", value: 0 },
            { id: "b", value: 0 },
          ])
          .execute();
        let reads = 0;
        let bothRead!: () => void;
        const barrier = new Promise<void>((resolve) => {
          bothRead = resolve;
        });
        const attempt = (id: string) =>
          store.db
            .transaction()
            .setIsolationLevel("serializable")
            .execute(async (trx) => {
              await trx.selectFrom("counters").select(sql<string>`sum(value)`.as("total")).execute();
              if (++reads === 2) bothRead();
              await barrier;
              await trx.updateTable("counters").set({ value: 1 }).where("id", "=", id).execute();
            });
        const outcomes = await Promise.allSettled([attempt("a"), attempt("b")]);
        const failures = outcomes.filter((outcome) => outcome.status === "rejected");
        expect(failures).toHaveLength(1);
        expect(isSerializationFailure(failures[0]?.reason)).toBe(true);
      },
    );
  });

  describe("errors", () => {
    it("a duplicate key is a unique violation naming its constraint", async () => {
      const store = await migratedStore();
      await store.db.insertInto("counters").values({ id: "a", value: 1 }).execute();
      const error = await store.db
        .insertInto("counters")
        .values({ id: "a", value: 2 })
        .execute()
        .catch((err: unknown) => err);
      expect(isUniqueViolation(error)).toBe(true);
      expect(violatedConstraint(error)).toBe("counters_pkey");
      expect(isForeignKeyViolation(error) || isCheckViolation(error) || isSerializationFailure(error)).toBe(
        false,
      );
    });

    it("foreign key, check and not-null violations are told apart", async () => {
      const store = await migratedStore();
      const fk = await store.db
        .insertInto("ledger")
        .values(aLedgerRow({ counter_id: "missing" }))
        .execute()
        .catch((err: unknown) => err);
      expect(isForeignKeyViolation(fk)).toBe(true);
      expect(isUniqueViolation(fk)).toBe(false);

      const check = await store.db
        .insertInto("counters")
        .values({ id: "neg", value: -1 })
        .execute()
        .catch((err: unknown) => err);
      expect(isCheckViolation(check)).toBe(true);

      const notNull = await sql`insert into counters (id, value) values ('n', null)`
        .execute(store.db)
        .catch((err: unknown) => err);
      expect(isNotNullViolation(notNull)).toBe(true);
    });

    it("serialization failures and deadlocks are recognised by SQLSTATE", async () => {
      const store = await freshStore();
      for (const code of ["40001", "40P01"]) {
        const error =
          await sql`do $$ begin raise exception 'lost the race' using errcode = ${sql.lit(code)}; end $$`
            .execute(store.db)
            .catch((err: unknown) => err);
        expect(sqlState(error)).toBe(code);
        expect(isSerializationFailure(error)).toBe(true);
      }
      expect(isSerializationFailure(new Error("not a database error"))).toBe(false);
    });
  });

  describe("types", () => {
    it("jsonb round-trips objects and arrays", async () => {
      const store = await migratedStore();
      const document = {
        sku: "TEE-01",
        tags: ["red", "xl"],
        price: { minor: 1999, currency: "EUR" },
        note: "ünï ✓",
      };
      const list = [1, "two", { three: 3 }, null];
      await store.db
        .insertInto("ledger")
        .values([
          aLedgerRow({ payload: JSON.stringify(document) }),
          aLedgerRow({ payload: JSON.stringify(list) }),
        ])
        .execute();
      const rows = await store.db.selectFrom("ledger").select("payload").orderBy("id").execute();
      expect(rows.map((row) => row.payload)).toEqual([document, list]);
      const sku = await store.db
        .selectFrom("ledger")
        .select(sql<string>`payload->>'sku'`.as("sku"))
        .where(sql<boolean>`payload @> ${JSON.stringify({ tags: ["xl"] })}::jsonb`)
        .executeTakeFirstOrThrow();
      expect(sku.sku).toBe("TEE-01");
    });

    it("timestamptz round-trips a Date to the millisecond", async () => {
      const store = await migratedStore();
      const at = new Date("2024-02-29T23:59:58.123Z");
      await store.db
        .insertInto("ledger")
        .values([aLedgerRow({ at }), aLedgerRow()])
        .execute();
      const rows = await store.db.selectFrom("ledger").select("at").orderBy("id").execute();
      expect(rows[0]?.at).toBeInstanceOf(Date);
      expect(rows[0]?.at.toISOString()).toBe(at.toISOString());
      // The column default (now()) is read back as a Date too.
      expect(Math.abs((rows[1]?.at.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
    });

    it("bigint and integer minor units come back as numbers; dates as ISO days", async () => {
      const store = await migratedStore();
      const large = 9_007_199_254_740_991; // Number.MAX_SAFE_INTEGER
      await store.db
        .insertInto("ledger")
        .values([
          aLedgerRow({ amount_minor: 1999, quantity: 2_147_483_647, day: "2024-02-29" }),
          aLedgerRow({ amount_minor: large, quantity: -3 }),
          aLedgerRow({ amount_minor: -250, quantity: 0 }),
        ])
        .execute();
      const rows = await store.db
        .selectFrom("ledger")
        .select(["amount_minor", "quantity", "day"])
        .orderBy("id")
        .execute();
      expect(rows).toEqual([
        { amount_minor: 1999, quantity: 2_147_483_647, day: "2024-02-29" },
        { amount_minor: large, quantity: -3, day: null },
        { amount_minor: -250, quantity: 0, day: null },
      ]);
      const { count } = await store.db
        .selectFrom("ledger")
        .select((eb) => eb.fn.countAll<number>().as("count"))
        .executeTakeFirstOrThrow();
      expect(count).toBe(3);
      const arrays = await sql<{ amounts: number[]; days: Array<string | null> }>`
        select array[1, null, 3]::bigint[] as amounts, array['2024-01-31'::date, null] as days`.execute(
        store.db,
      );
      expect(arrays.rows[0]).toEqual({ amounts: [1, null, 3], days: ["2024-01-31", null] });
    });

    it("a bigint beyond 2^53 fails the query instead of losing precision", async () => {
      const store = await freshStore();
      await expect(sql`select 9007199254740993::bigint as too_big`.execute(store.db)).rejects.toThrow(
        RangeError,
      );
      // The connection is still usable afterwards.
      const ok = await sql<{ n: number }>`select 2::bigint as n`.execute(store.db);
      expect(ok.rows).toEqual([{ n: 2 }]);
    });
  });

  describe("lifecycle", () => {
    it("ping resolves while open; close is idempotent; ping rejects once closed", async () => {
      const database = await factory.createDatabase();
      cleanups.push(() => database.destroy());
      const store = await database.open<TestDB>();
      expect(store.kind).toBe(factory.adapter);
      expect(store.location.startsWith(database.location)).toBe(true);
      await expect(store.ping()).resolves.toBeUndefined();
      await Promise.all([store.close(), store.close()]);
      await store.close();
      await expect(store.ping()).rejects.toThrow();
    });

    it("data and migrations persist across close and reopen", async () => {
      const database = await factory.createDatabase();
      cleanups.push(() => database.destroy());
      const first = await database.open<TestDB>();
      await migrateToLatest(first, migrations);
      await first.db.insertInto("counters").values({ id: "kept", value: 7 }).execute();
      await first.close();

      const second = await database.open<TestDB>();
      expect(await second.db.selectFrom("counters").selectAll().execute()).toEqual([
        { id: "kept", value: 7 },
      ]);
      expect(await migrateToLatest(second, migrations)).toEqual([]);
      await second.close();
    });
  });
});
