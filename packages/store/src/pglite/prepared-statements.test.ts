import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../store.js";
import { openPglite } from "./open-pglite.js";

// The cluster prepares each data statement once per service and reuses it (pglite-cluster.ts).
// A cached plan must never outlive what it was planned for, nor turn one failure into another.
describe("PGlite prepared statements", () => {
  let first: Store<unknown>;
  let second: Store<unknown>;
  let dataDir: string;
  beforeAll(async () => {
    // Both services on one cluster: one PGlite session, switched between them.
    dataDir = await mkdtemp(join(tmpdir(), "blossom-prepared-"));
    first = await openPglite({ dataDir, service: "prepared_first" });
    second = await openPglite({ dataDir, service: "prepared_second" });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("reuses a statement across services, each reading its own table of the same name", async () => {
    for (const [store, value] of [
      [first, "first"],
      [second, "second"],
    ] as const) {
      await sql`create table items (id int primary key, value text)`.execute(store.db);
      await sql`insert into items values (1, ${value})`.execute(store.db);
    }
    // The same text, interleaved between the two services' sessions, many times over.
    for (let i = 0; i < 5; i++) {
      for (const [store, value] of [
        [first, "first"],
        [second, "second"],
      ] as const) {
        const { rows } = await sql<{ value: string }>`select value from items where id = ${1}`.execute(
          store.db,
        );
        expect(rows).toEqual([{ value }]);
      }
    }
  });

  it("plans again after a schema change (no 'cached plan must not change result type')", async () => {
    const read = () => sql<Record<string, unknown>>`select * from items where id = ${1}`.execute(first.db);
    expect((await read()).rows).toEqual([{ id: 1, value: "first" }]);
    await sql`alter table items add column extra text default 'x'`.execute(first.db);
    expect((await read()).rows).toEqual([{ id: 1, value: "first", extra: "x" }]);
    await sql`drop table items`.execute(first.db);
    await sql`create table items (id int primary key, label text)`.execute(first.db);
    await sql`insert into items values (1, 'again')`.execute(first.db);
    expect((await read()).rows).toEqual([{ id: 1, label: "again" }]);
  });

  it("a statement that fails, to parse or to run, fails the same way again and then works", async () => {
    const broken = () => sql`select nope from items where id = ${1}`.execute(second.db);
    await expect(broken()).rejects.toThrow(/column "nope" does not exist/);
    await expect(broken()).rejects.toThrow(/column "nope" does not exist/);
    const insert = (id: number) => sql`insert into items values (${id}, 'dup')`.execute(second.db);
    await expect(insert(1)).rejects.toThrow(/duplicate key/);
    await insert(2);
    await expect(insert(2)).rejects.toThrow(/duplicate key/);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from items`.execute(second.db);
    expect(rows).toEqual([{ n: 2 }]);
  });

  it("a failed transaction rolls back and the next one runs in the right schema", async () => {
    await expect(
      second.db.transaction().execute(async (trx) => {
        await sql`insert into items values (${10}, 'rolled back')`.execute(trx);
        await sql`insert into items values (${10}, 'duplicate')`.execute(trx);
      }),
    ).rejects.toThrow(/duplicate key/);
    const gone = await sql`select 1 from items where id = ${10}`.execute(second.db);
    expect(gone.rows).toEqual([]);
    const { rows } = await sql<{ label: string }>`select label from items where id = ${1}`.execute(first.db);
    expect(rows).toEqual([{ label: "again" }]);
  });
});
