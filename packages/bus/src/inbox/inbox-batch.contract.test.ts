import { AsyncLocalStorage } from "node:async_hooks";
import { migrateToLatest, type Store } from "@blossom/store";
import { testStoreFactories } from "@blossom/testkit";
import { type Kysely, sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import type { EventEnvelope } from "../envelope.js";
import { type MessagingTables, messagingMigrations } from "../messaging-tables.js";
import { Inbox } from "./inbox.js";

/**
 * The inbox's batches (`maxBatch` above 1) against every store adapter: events that wait together
 * share one transaction, each still takes effect once, a failing effect fails alone, and every
 * effect runs in the async context of its own delivery.
 */
type Db = Kysely<MessagingTables & { effects: { event_id: string; txid: string } }>;

const opened: Store<unknown>[] = [];
afterEach(async () => {
  for (const store of opened.splice(0).reverse()) await store.close();
});

const event = (id: string) => ({ id, type: "accounts.registered.v1" }) as EventEnvelope;

describe.each(testStoreFactories())("inbox batches on $adapter", (factory) => {
  async function database(): Promise<Db> {
    const store = await factory.openStore<unknown>("inboxbatch");
    opened.push(store);
    await migrateToLatest(store, {
      ...messagingMigrations,
      "0001_effects": {
        async up(db) {
          await db.schema
            .createTable("effects")
            .addColumn("event_id", "text")
            .addColumn("txid", "text")
            .execute();
        },
        async down(db) {
          await db.schema.dropTable("effects").execute();
        },
      },
    });
    return store.db as Db;
  }

  /** An effect that records its event and the transaction it ran in. */
  const record = (id: string) => async (trx: Db) => {
    const { rows } = await sql<{ txid: string }>`select txid_current()::text as txid`.execute(trx);
    await trx
      .insertInto("effects")
      .values({ event_id: id, txid: rows[0]?.txid ?? "?" })
      .execute();
  };

  const effects = (db: Db) => db.selectFrom("effects").selectAll().orderBy("event_id").execute();

  it("handles events that wait together in one transaction, at most maxBatch at a time", async () => {
    const db = await database();
    const inbox = new Inbox("billing", { maxBatch: 3 });
    const ids = ["e1", "e2", "e3", "e4", "e5"];
    const outcomes = await Promise.all(ids.map((id) => inbox.handle(db, event(id), record(id))));
    expect(outcomes).toEqual(["handled", "handled", "handled", "handled", "handled"]);
    const rows = await effects(db);
    expect(rows.map((row) => row.event_id)).toEqual(ids);
    // Handed over in one turn: the first three together, then the other two.
    const [first, second] = [rows.slice(0, 3), rows.slice(3)].map((part) => new Set(part.map((r) => r.txid)));
    expect(first?.size).toBe(1);
    expect(second?.size).toBe(1);
    expect([...(first ?? [])]).not.toEqual([...(second ?? [])]);
    // Each id is in the inbox: a redelivery, alone or in a batch, does nothing.
    const again = await Promise.all(["e2", "e6"].map((id) => inbox.handle(db, event(id), record(id))));
    expect(again).toEqual(["duplicate", "handled"]);
    expect(await effects(db)).toHaveLength(6);
  });

  it("fails a failing effect alone: the rest of its batch takes effect, once", async () => {
    const db = await database();
    const inbox = new Inbox("billing", { maxBatch: 8 });
    const failing = async (trx: Db) => {
      await record("bad")(trx);
      throw new Error("effect failed");
    };
    const results = await Promise.allSettled([
      inbox.handle(db, event("ok1"), record("ok1")),
      inbox.handle(db, event("bad"), failing),
      inbox.handle(db, event("ok2"), record("ok2")),
    ]);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ message: "effect failed" });
    const rows = await effects(db);
    // The batch rolled back, then each ran alone: ok1 and ok2 once each, bad never.
    expect(rows.map((row) => row.event_id)).toEqual(["ok1", "ok2"]);
    expect(new Set(rows.map((row) => row.txid)).size).toBe(2);
    const inboxIds = await db.selectFrom("inbox").select("event_id").orderBy("event_id").execute();
    expect(inboxIds.map((row) => row.event_id)).toEqual(["ok1", "ok2"]);
    // The failed one is not recorded: its redelivery runs its effect.
    expect(await inbox.handle(db, event("bad"), record("bad"))).toBe("handled");
  });

  it("takes a second delivery of an id in the same turn as a duplicate, never a second effect", async () => {
    const db = await database();
    const inbox = new Inbox("billing", { maxBatch: 8 });
    const outcomes = await Promise.all([
      inbox.handle(db, event("same"), record("same")),
      inbox.handle(db, event("other"), record("other")),
      inbox.handle(db, event("same"), record("same")),
    ]);
    expect(outcomes).toEqual(["handled", "handled", "duplicate"]);
    expect((await effects(db)).map((row) => row.event_id)).toEqual(["other", "same"]);
  });

  it("runs each effect of a batch in the async context of its own delivery", async () => {
    const db = await database();
    const inbox = new Inbox("billing", { maxBatch: 8 });
    const delivery = new AsyncLocalStorage<string>();
    const seen: Record<string, string | undefined> = {};
    await Promise.all(
      ["a", "b", "c"].map((id) =>
        delivery.run(`context of ${id}`, () =>
          inbox.handle(db, event(id), async (trx) => {
            await record(id)(trx);
            seen[id] = delivery.getStore();
          }),
        ),
      ),
    );
    expect(new Set((await effects(db)).map((row) => row.txid)).size).toBe(1);
    expect(seen).toEqual({ a: "context of a", b: "context of b", c: "context of c" });
  });

  it("calls the batch hooks around the effects of a batch of several, in its transaction, never for one alone", async () => {
    const db = await database();
    const calls: string[] = [];
    const txid = async (trx: Db) =>
      (await sql<{ txid: string }>`select txid_current()::text as txid`.execute(trx)).rows[0]?.txid;
    const inbox = new Inbox("billing", {
      maxBatch: 8,
      batchHooks: {
        started: () => calls.push("started"),
        finishing: async (trx) => {
          calls.push(`finishing in ${await txid(trx as unknown as Db)}`);
        },
      },
    });
    await Promise.all(["h1", "h2"].map((id) => inbox.handle(db, event(id), record(id))));
    await inbox.handle(db, event("h3"), record("h3"));
    const rows = await effects(db);
    expect(calls).toEqual(["started", `finishing in ${rows[0]?.txid}`]);
    expect(rows[1]?.txid).toBe(rows[0]?.txid);
  });

  it("refuses a maxBatch that is not a positive integer", () => {
    expect(() => new Inbox("billing", { maxBatch: 0 })).toThrow(RangeError);
    expect(() => new Inbox("billing", { maxBatch: 1.5 })).toThrow(RangeError);
  });
});
