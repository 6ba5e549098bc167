import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DataDirLockedError } from "./data-dir-lock.js";
import { openPglite, PGLITE_TEMPORARY } from "./open-pglite.js";

// What the contract suite cannot cover through testkit: the private temporary cluster, services sharing one
// cluster, and the guard against opening one data directory twice.
describe("openPglite", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "blossom-pglite-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("without a directory, keeps a private cluster in a temporary directory, deleted on close", async () => {
    const before = new Set(await readdir(tmpdir()));
    const store = await openPglite({ service: "temporary-test" });
    const created = (await readdir(tmpdir())).filter(
      (entry) => !before.has(entry) && entry.startsWith("blossom-pglite-temporary-"),
    );
    try {
      expect(store).toMatchObject({ kind: "pglite", location: PGLITE_TEMPORARY });
      await store.ping();
      expect(created).toHaveLength(1);
    } finally {
      await store.close();
    }
    expect(existsSync(join(tmpdir(), created[0] ?? "missing"))).toBe(false);
  });

  it("gives each service on one cluster its own schema, which no other service can read or change", async () => {
    const dataDir = join(root, "cluster");
    const orders = await openPglite({ dataDir, service: "orders" });
    const payments = await openPglite({ dataDir, service: "payments" });
    try {
      expect(orders.location).toBe(`${dataDir} (schema orders)`);
      // Same table name in both: each lands in its own schema.
      await sql`create table secrets (value text)`.execute(orders.db);
      await sql`insert into secrets values ('order data')`.execute(orders.db);
      await sql`create table secrets (value text)`.execute(payments.db);
      const own = await sql<{ value: string }>`select value from secrets`.execute(payments.db);
      expect(own.rows).toEqual([]);
      for (const stray of [
        sql`select * from orders.secrets`,
        sql`insert into orders.secrets values ('forged')`,
        sql`drop table orders.secrets`,
        sql`create table public.leak (x int)`,
        sql`create schema sneaky`,
      ]) {
        await expect(stray.execute(payments.db)).rejects.toThrow(/permission denied/);
      }
      // Interleaved transactions of two services do not see or break each other.
      await Promise.all([
        orders.db.transaction().execute(async (trx) => {
          await sql`insert into secrets values ('a')`.execute(trx);
          await new Promise((done) => setTimeout(done, 20));
          await sql`insert into secrets values ('b')`.execute(trx);
        }),
        payments.db.transaction().execute(async (trx) => {
          await sql`insert into secrets values ('c')`.execute(trx);
        }),
      ]);
      const ordersRows = await sql<{ value: string }>`select value from secrets order by value`.execute(
        orders.db,
      );
      expect(ordersRows.rows.map((row) => row.value)).toEqual(["a", "b", "order data"]);
      const who = await sql<{ role: string }>`select current_user as role`.execute(payments.db);
      expect(who.rows).toEqual([{ role: "payments" }]);
    } finally {
      await orders.close();
      await payments.close();
    }
  });

  it("keeps a service in its own schema after a transaction that switched to it is rolled back", async () => {
    // The switch to a new borrower travels with its transaction's BEGIN, so it is part of that
    // transaction: rolled back, the session was the previous service's again (a 500 in the shop:
    // "relation products does not exist"), while the cluster believed it had switched.
    const dataDir = join(root, "cluster");
    const orders = await openPglite({ dataDir, service: "orders" });
    const inventory = await openPglite({ dataDir, service: "inventory" });
    try {
      await sql`create table items (value text)`.execute(orders.db);
      await sql`insert into items values ('orders')`.execute(orders.db);
      await sql`create table items (value text)`.execute(inventory.db);
      await sql`insert into items values ('inventory')`.execute(inventory.db);
      const transactions = {
        // Refused by the domain after a read (a 409 of the API): rolled back.
        refused: async (trx: typeof inventory.db) => {
          await sql`select value from items`.execute(trx);
          throw new Error("refused");
        },
        // A statement fails: rolled back.
        failed: async (trx: typeof inventory.db) => {
          await sql`select no_such_column from items`.execute(trx);
        },
        // A failure caught inside: the COMMIT that follows is answered ROLLBACK.
        "committed after a failure": async (trx: typeof inventory.db) => {
          await sql`select value from items`.execute(trx);
          await sql`select no_such_column from items`.execute(trx).catch(() => {});
        },
      };
      for (const [outcome, work] of Object.entries(transactions)) {
        await sql`select 1`.execute(orders.db); // orders borrows last: inventory's next use switches
        await inventory.db
          .transaction()
          .execute(work)
          .catch(() => {});
        const after = await sql<{
          who: string;
          value: string;
        }>`select current_user as who, value from items`.execute(inventory.db);
        expect(after.rows, outcome).toEqual([{ who: "inventory", value: "inventory" }]);
      }
      // A committed switch stays: no extra switch needed, and still the right schema.
      await sql`select 1`.execute(orders.db);
      await inventory.db.transaction().execute(async (trx) => {
        await sql`insert into items values ('committed')`.execute(trx);
      });
      const rows = await sql<{ value: string }>`select value from items order by value`.execute(inventory.db);
      expect(rows.rows.map((row) => row.value)).toEqual(["committed", "inventory"]);
    } finally {
      await orders.close();
      await inventory.close();
    }
  });

  it("parses results to JavaScript values as PostgreSQL's driver does, with its trimmed parser table", async () => {
    const store = await openPglite({ dataDir: join(root, "types"), service: "types_test" });
    try {
      const { rows } = await sql<Record<string, unknown>>`select
          true as flag, 7::int4 as small, 8::int8 as big, 1.5::float8 as real, 'x'::varchar as label,
          '{"a":1}'::jsonb as doc, '2024-02-29'::date as day, '2024-02-29T10:00:00Z'::timestamptz as at,
          array[1, 2]::int4[] as ints, array[3, 4]::int8[] as bigs, array['a', null]::text[] as texts,
          array['2024-01-01']::date[] as days, array['{"b":2}']::jsonb[] as docs,
          '11111111-1111-1111-1111-111111111111'::uuid as id, 12.50::numeric as amount`.execute(store.db);
      expect(rows).toEqual([
        {
          flag: true,
          small: 7,
          big: 8,
          real: 1.5,
          label: "x",
          doc: { a: 1 },
          day: "2024-02-29",
          at: new Date("2024-02-29T10:00:00Z"),
          ints: [1, 2],
          bigs: [3, 4],
          texts: ["a", null],
          days: ["2024-01-01"],
          docs: [{ b: 2 }],
          id: "11111111-1111-1111-1111-111111111111",
          amount: "12.50",
        },
      ]);
    } finally {
      await store.close();
    }
  });

  it("refuses a second open of a service that is open, and a name PostgreSQL reserves", async () => {
    const dataDir = join(root, "cluster");
    const first = await openPglite({ dataDir, service: "svc" });
    await expect(openPglite({ dataDir, service: "svc" })).rejects.toThrow(DataDirLockedError);
    await expect(openPglite({ dataDir, service: "public" })).rejects.toThrow(/reserved/);
    await expect(openPglite({ dataDir, service: "pg_catalog" })).rejects.toThrow(/reserved/);
    await first.close();
    const again = await openPglite({ dataDir, service: "svc" });
    await again.close();
  });

  it("closes the cluster and releases its directory when the last service closes, keeping the data", async () => {
    const dataDir = join(root, "cluster");
    const a = await openPglite({ dataDir, service: "a" });
    const b = await openPglite({ dataDir, service: "b" });
    await sql`create table kept (x int)`.execute(a.db);
    await sql`insert into kept values (7)`.execute(a.db);
    await a.close();
    // Still held by b.
    expect(JSON.parse(await readFile(`${dataDir}.lock`, "utf8"))).toMatchObject({ pid: process.pid });
    // Closing the last one while another opens: the opener waits and opens it anew.
    const [, reopened] = await Promise.all([b.close(), openPglite({ dataDir, service: "a" })]);
    try {
      const rows = await sql<{ x: number }>`select x from kept`.execute(reopened.db);
      expect(rows.rows).toEqual([{ x: 7 }]);
    } finally {
      await reopened.close();
    }
    await expect(readFile(`${dataDir}.lock`)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("refuses a directory locked by another live process", async () => {
    const dataDir = join(root, "svc");
    // The parent (vitest's main process) is alive and is not this process.
    await writeFile(`${dataDir}.lock`, JSON.stringify({ pid: process.ppid, host: hostname() }));
    await expect(openPglite({ dataDir, service: "svc" })).rejects.toThrow(/in use by process/);
  });

  it("takes over a lock left by a process that is gone", async () => {
    const dataDir = join(root, "svc");
    await writeFile(`${dataDir}.lock`, JSON.stringify({ pid: 2 ** 22 + 1, host: hostname() })); // above pid_max
    const store = await openPglite({ dataDir, service: "svc" });
    expect(JSON.parse(await readFile(`${dataDir}.lock`, "utf8"))).toEqual({
      pid: process.pid,
      host: hostname(),
    });
    await store.close();
  });
});
