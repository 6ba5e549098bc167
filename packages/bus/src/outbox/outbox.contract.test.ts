import { defineEvent, EventContractError } from "@blossom/event-contracts";
import { migrateToLatest, type Store } from "@blossom/store";
import { eventually, testStoreFactories } from "@blossom/testkit";
import { Type } from "@sinclair/typebox";
import { type Kysely, sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import type { EventEnvelope } from "../envelope.js";
import type { EventBus } from "../event-bus.js";
import { Inbox } from "../inbox/inbox.js";
import { MemoryBus } from "../memory/memory-bus.js";
import { asMessagingDb, type MessagingTables, messagingMigrations } from "../messaging-tables.js";
import { Outbox } from "./outbox.js";
import { OutboxRelay } from "./outbox-relay.js";

/**
 * The outbox and inbox against every store adapter (PGlite for `npm test`, PostgreSQL in CI):
 * events exist exactly when their transaction committed, leave in order, survive a failing bus,
 * and have one effect however often they arrive.
 */
const Registered = defineEvent("accounts.registered.v1", Type.Object({ n: Type.Integer() }), "test event");
const Undeclared = defineEvent("accounts.undeclared.v1", Type.Object({}), "not declared by the test outbox");
const silent = { info() {}, warn() {}, error() {} };

type Db = Kysely<MessagingTables & { effects: { event_id: string; n: number } }>;

// Closed in reverse order of opening: relays stop (and their passes end) before the bus and the
// database they use close. Every one is closed even if another fails.
const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  const errors: unknown[] = [];
  for (const resource of opened.splice(0).reverse())
    await resource.close().catch((error) => errors.push(error));
  if (errors.length > 0) throw new AggregateError(errors, "closing the test's resources failed");
});

/** A bus whose publish fails until told otherwise, recording what it was given. */
class FlakyBus extends MemoryBus {
  failing = true;
  received: EventEnvelope[] = [];
  override async publish(events: EventEnvelope[]): Promise<void> {
    if (this.failing) throw new Error("bus down");
    this.received.push(...events);
    await super.publish(events);
  }
}

describe.each(testStoreFactories())("outbox and inbox on $adapter", (factory) => {
  async function database(): Promise<{ store: Store<unknown>; db: Db }> {
    const store = await factory.openStore<unknown>("outboxtest");
    opened.push(store);
    await migrateToLatest(store, {
      ...messagingMigrations,
      "0001_effects": {
        async up(db) {
          await db.schema
            .createTable("effects")
            .addColumn("event_id", "text")
            .addColumn("n", "integer")
            .execute();
        },
        async down(db) {
          await db.schema.dropTable("effects").execute();
        },
      },
    });
    return { store, db: store.db as unknown as Db };
  }

  function relay(db: Db, bus: EventBus, shared: boolean) {
    const created = new OutboxRelay({
      db: asMessagingDb(db),
      bus,

      logger: silent,
      shared,
      pollIntervalMs: 20,
      retryDelayMs: 10,
    });
    opened.push({ close: () => created.stop() });
    return created;
  }

  const outbox = new Outbox("accounts", [Registered], () => ({
    correlationId: "corr-1",
    traceparent: "00-aa-bb-01",
  }));

  it("stores an event only when its transaction commits, stamped with the current context", async () => {
    const { db } = await database();
    await db.transaction().execute(async (trx) => {
      await outbox.add(trx, Registered, "acct-1", { n: 1 });
    });
    await expect(
      db.transaction().execute(async (trx) => {
        await outbox.add(trx, Registered, "acct-2", { n: 2 });
        throw new Error("the state change failed");
      }),
    ).rejects.toThrow("the state change failed");
    const rows = await db.selectFrom("outbox").selectAll().execute();
    expect(rows.map((row) => row.subject)).toEqual(["acct-1"]);
    expect(rows[0]?.envelope).toMatchObject({
      type: "accounts.registered.v1",
      source: "accounts",
      subject: "acct-1",
      data: { n: 1 },
      correlationId: "corr-1",
      traceparent: "00-aa-bb-01",
      schemaVersion: 1,
    });
  });

  it("holds back a deferring transaction's events, then stores them in one insert, in order, before it commits", async () => {
    const { db } = await database();
    const written = await db.transaction().execute(async (trx) => {
      outbox.deferWrites(trx);
      for (const n of [1, 2, 3]) await outbox.add(trx, Registered, `acct-${n}`, { n });
      const before = await trx.selectFrom("outbox").select("id").execute();
      await outbox.flushDeferred(trx);
      // A second flush has nothing left to store; later adds go straight in again.
      await outbox.flushDeferred(trx);
      await outbox.add(trx, Registered, "acct-4", { n: 4 });
      return before.length;
    });
    expect(written).toBe(0);
    const rows = await db.selectFrom("outbox").select(["subject", "position"]).orderBy("position").execute();
    expect(rows.map((row) => row.subject)).toEqual(["acct-1", "acct-2", "acct-3", "acct-4"]);
    // A deferring transaction that rolls back stores nothing.
    await expect(
      db.transaction().execute(async (trx) => {
        outbox.deferWrites(trx);
        await outbox.add(trx, Registered, "acct-5", { n: 5 });
        await outbox.flushDeferred(trx);
        throw new Error("the state change failed");
      }),
    ).rejects.toThrow("the state change failed");
    expect(await db.selectFrom("outbox").selectAll().execute()).toHaveLength(4);
  });

  it("refuses data that breaks the contract, and contracts the service does not publish", async () => {
    const { db } = await database();
    await expect(outbox.add(db, Registered, "acct-1", { n: "one" } as never)).rejects.toBeInstanceOf(
      EventContractError,
    );
    await expect(outbox.add(db, Undeclared, "acct-1", {})).rejects.toThrow(/does not declare/);
    expect(await db.selectFrom("outbox").selectAll().execute()).toEqual([]);
  });

  it("relays in order, marks rows published, and keeps them until a failing bus recovers", async () => {
    const { db } = await database();
    const bus = new FlakyBus();
    opened.push(bus);
    const seen: number[] = [];
    await bus.subscribe("audit", [Registered.type], async (event) => {
      seen.push((event.data as { n: number }).n);
    });
    for (let n = 1; n <= 30; n++) await outbox.add(db, Registered, `acct-${n % 3}`, { n });
    const relayer = relay(db, bus, factory.adapter === "postgres");
    relayer.start();
    await new Promise((done) => setTimeout(done, 100));
    expect(seen).toEqual([]);
    expect(await relayer.pending()).toBe(30);
    const failed = await db
      .selectFrom("outbox")
      .select("attempts")
      .where("position", "=", "1")
      .executeTakeFirstOrThrow();
    expect(failed.attempts).toBeGreaterThan(0);

    bus.failing = false;
    await relayer.flush();
    expect(await relayer.pending()).toBe(0);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, index) => index + 1));
    expect(relayer.stats.published).toBe(30);
  });

  it("publishes a committed transaction's events at once (fast path); after a failed publish, passes take over in order", async () => {
    const { db } = await database();
    const bus = new FlakyBus();
    bus.failing = false;
    opened.push(bus);
    const seen: number[] = [];
    await bus.subscribe("audit", [Registered.type], async (event) => {
      seen.push((event.data as { n: number }).n);
    });
    // No periodic pass within the test: only the start pass, the fast path and retries after a failure.
    const relayer = new OutboxRelay({
      db: asMessagingDb(db),
      bus,
      logger: silent,
      shared: factory.adapter === "postgres",
      pollIntervalMs: 60_000,
      retryDelayMs: 10,
    });
    opened.push({ close: () => relayer.stop() });
    relayer.start();
    await relayer.flush();
    const commit = async (n: number) => {
      let written: object | undefined;
      await db.transaction().execute(async (trx) => {
        written = trx;
        await outbox.add(trx, Registered, "acct-1", { n });
      });
      relayer.committed(outbox.takeWritten(written as object));
    };
    const settle = async (count: number) => {
      for (let tries = 0; tries < 200 && (seen.length < count || (await relayer.pending()) > 0); tries++)
        await new Promise((done) => setTimeout(done, 10));
    };

    await commit(1);
    await settle(1);
    expect(seen).toEqual([1]);
    expect(await relayer.pending()).toBe(0);
    bus.failing = true;
    await commit(2);
    await commit(3);
    await new Promise((done) => setTimeout(done, 50));
    expect(await relayer.pending()).toBe(2);
    bus.failing = false;
    await settle(3);
    await commit(4);
    await settle(4);
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(await relayer.pending()).toBe(0);
    expect(relayer.stats.published).toBe(4);
    expect(relayer.stats.failures).toBeGreaterThan(0);
  });

  it("resumes after a stop with what is still pending", async () => {
    const { db } = await database();
    const bus = new FlakyBus();
    bus.failing = false;
    opened.push(bus);
    const first = relay(db, bus, false);
    await outbox.add(db, Registered, "acct-1", { n: 1 });
    await first.flush();
    await first.stop();
    await outbox.add(db, Registered, "acct-1", { n: 2 });
    const second = relay(db, bus, false);
    await second.flush();
    expect(bus.received.map((event) => (event.data as { n: number }).n)).toEqual([1, 2]);
  });

  it("stop() waits for the pass and the flush in flight and leaves no timer: the database may close at once", async () => {
    const { store, db } = await database();
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    /** Holds every publish until the gate opens. */
    class GatedBus extends FlakyBus {
      override async publish(events: EventEnvelope[]): Promise<void> {
        calls += 1;
        await gate;
        await super.publish(events);
      }
    }
    const bus = new GatedBus();
    bus.failing = false;
    opened.push(bus);
    await outbox.add(db, Registered, "acct-1", { n: 1 });
    const relayer = relay(db, bus, factory.adapter === "postgres");
    relayer.start();
    await eventually(async () => calls > 0, 15_000, "a publish attempt");
    // A flush started meanwhile: on PostgreSQL it finds the lock taken, on PGlite it waits its turn.
    const flushing = relayer.flush().catch(() => {});
    let stopped = false;
    const stopping = relayer.stop().then(() => {
      stopped = true;
    });
    await new Promise((done) => setTimeout(done, 50));
    expect(stopped).toBe(false);
    release();
    await stopping;
    await flushing;
    expect(bus.received.map((event) => event.id)).toHaveLength(1);
    expect(await relayer.pending()).toBe(0);
    // Nothing of the relay's may run from here on (the poll interval is 20 ms): a query on the
    // closed database would be an unhandled rejection, which fails the run.
    await store.close();
    await new Promise((done) => setTimeout(done, 100));
    expect(calls).toBe(1);
  });

  it("has one effect per event id however often it is delivered; a failed effect records nothing", async () => {
    const { db } = await database();
    const inbox = new Inbox("billing");
    const envelope = { id: "evt-1", type: Registered.type } as EventEnvelope;
    const effect = (n: number) => async (trx: Db) => {
      await trx.insertInto("effects").values({ event_id: "evt-1", n }).execute();
    };
    await expect(
      inbox.handle(db, envelope, async (trx) => {
        await effect(0)(trx);
        throw new Error("effect failed");
      }),
    ).rejects.toThrow("effect failed");
    expect(await inbox.handle(db, envelope, effect(1))).toBe("handled");
    expect(await inbox.handle(db, envelope, effect(2))).toBe("duplicate");
    // Concurrent duplicates: on PostgreSQL they race on the inbox's primary key.
    const outcomes = await Promise.all([3, 4, 5].map((n) => inbox.handle(db, envelope, effect(n))));
    expect(outcomes).toEqual(["duplicate", "duplicate", "duplicate"]);
    const effects = await db.selectFrom("effects").select("n").execute();
    expect(effects).toEqual([{ n: 1 }]);
    // Another consumer handles the same event on its own.
    expect(await new Inbox("shipping").handle(db, envelope, async () => {})).toBe("handled");
  });

  it.runIf(factory.adapter === "postgres")(
    "postgres: two relays on one outbox (replicas) publish each event, in order, one relay at a time",
    async () => {
      const { db } = await database();
      const bus = new FlakyBus();
      bus.failing = false;
      opened.push(bus);
      for (let n = 1; n <= 200; n++) await outbox.add(db, Registered, "acct", { n });
      const a = relay(db, bus, true);
      const b = relay(db, bus, true);
      a.start();
      b.start();
      await eventually(async () => (await a.pending()) === 0, 15_000, "an empty outbox");
      // Both stopped, their passes over, before the checks and before the database closes.
      await Promise.all([a.stop(), b.stop()]);
      const order = bus.received.map((event) => (event.data as { n: number }).n);
      // A crash between publish and mark may repeat an event, but two healthy replicas never
      // interleave: the advisory lock lets one relay at a time.
      expect(order).toEqual(Array.from({ length: 200 }, (_, index) => index + 1));
      const count = await sql<{
        count: number;
      }>`select count(*)::int as count from outbox where published_at is not null`.execute(db);
      expect(count.rows[0]?.count).toBe(200);
    },
  );
});
