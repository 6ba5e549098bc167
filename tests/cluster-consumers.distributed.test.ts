import { createEnvelope, type EventEnvelope, Inbox, messagingMigrations } from "@blossom/bus";
import { NatsBus } from "@blossom/bus/nats";
import {
  dropPostgresDatabase,
  ensurePostgresDatabase,
  openStore,
  type Store,
  withDatabaseName,
} from "@blossom/store";
import { eventually, testAdapters } from "@blossom/testkit";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Replicas of one consumer service, as `blossom cluster` runs them: each its own process-like
 * pair of NATS connection and database pool, subscribed under the same consumer name, so they
 * pull from one shared durable (the JetStream queue group). The work is split between them and
 * the inbox gives each event exactly one effect, even when a delivery is repeated after its
 * effect was committed (a replica dying between commit and ack).
 */
const adapters = testAdapters();
const tag = `t_share_${process.pid}_${Date.now() % 1e8}`;
const database = `${tag}_db`;
const EVENTS = 60;
const ORDERS = 12;

interface Replica {
  name: string;
  bus: NatsBus;
  // biome-ignore lint/suspicious/noExplicitAny: the test's two tables are created by hand below.
  store: Store<any>;
  handled: number;
  duplicates: number;
}

describe("replicas of a consumer service share one durable", () => {
  const replicas: Replica[] = [];
  let publisher: NatsBus;

  beforeAll(async () => {
    await ensurePostgresDatabase(adapters.postgresUrl, database);
    for (const name of ["notifications#1", "notifications#2"]) {
      replicas.push({
        name,
        bus: await NatsBus.connect({ url: adapters.natsUrl, prefix: tag, ackWaitMs: 5_000, name }),
        store: await openStore({
          service: "notifications",
          databaseUrl: withDatabaseName(adapters.postgresUrl, database),
          dataDir: "",
        }),
        handled: 0,
        duplicates: 0,
      });
    }
    const db = replicas[0]?.store.db;
    if (db === undefined) throw new Error("no replica");
    await messagingMigrations["0000_messaging_outbox_inbox"].up(db);
    await sql`create table effects (event_id text not null, subject text not null, replica text not null)`.execute(
      db,
    );
    publisher = await NatsBus.connect({ url: adapters.natsUrl, prefix: tag, name: "orders" });
  });

  afterAll(async () => {
    await publisher?.destroyStreams().catch(() => {});
    await publisher?.close();
    for (const replica of replicas) {
      await replica.bus.close();
      await replica.store.close();
    }
    await dropPostgresDatabase(adapters.postgresUrl, database);
  });

  it("splits the events between the replicas, with exactly one effect per event", async () => {
    const inbox = new Inbox("notifications");
    // Every fifth event "crashes" its first delivery after the effect committed: redelivered, maybe
    // to the other replica, it must find the event id in the inbox and do nothing.
    const failedOnce = new Set<string>();
    for (const replica of replicas) {
      await replica.bus.subscribe(
        "notifications",
        ["orders.order-placed.v1"],
        async (event: EventEnvelope) => {
          const outcome = await inbox.handle(replica.store.db, event, async (trx) => {
            await new Promise((done) => setTimeout(done, 5));
            await sql`insert into effects values (${event.id}, ${event.subject}, ${replica.name})`.execute(
              trx,
            );
          });
          if (outcome === "duplicate") replica.duplicates++;
          else replica.handled++;
          const index = Number((event.data as { index: number }).index);
          if (index % 5 === 0 && !failedOnce.has(event.id)) {
            failedOnce.add(event.id);
            throw new Error("died between commit and ack");
          }
        },
      );
    }
    const events = Array.from({ length: EVENTS }, (_, index) =>
      createEnvelope("orders", {
        type: "orders.order-placed.v1",
        subject: `order-${index % ORDERS}`,
        data: { index },
      }),
    );
    await publisher.publish(events);

    const db = replicas[0]?.store.db;
    if (db === undefined) throw new Error("no replica");
    const count = async () =>
      Number((await sql<{ n: string }>`select count(*) as n from effects`.execute(db)).rows[0]?.n ?? 0);
    await eventually(async () => ((await count()) >= EVENTS ? true : undefined), 30_000, "every effect");
    // Each failed-once event came back and was a duplicate (more redeliveries are possible on a
    // loaded machine, past the ack wait; they must be duplicates too).
    await eventually(
      async () =>
        replicas.reduce((sum, replica) => sum + replica.duplicates, 0) >= EVENTS / 5 ? true : undefined,
      15_000,
      "the redeliveries",
    );

    const rows = (
      await sql<{ event_id: string; replica: string }>`select event_id, replica from effects`.execute(db)
    ).rows;
    expect(rows).toHaveLength(EVENTS);
    expect(new Set(rows.map((row) => row.event_id))).toEqual(new Set(events.map((event) => event.id)));
    for (const replica of replicas) {
      // Both took a share of the work (not one replica doing everything).
      expect(replica.handled).toBeGreaterThan(0);
      expect(rows.filter((row) => row.replica === replica.name).length).toBe(replica.handled);
    }
    expect(replicas.reduce((sum, replica) => sum + replica.handled, 0)).toBe(EVENTS);
  }, 60_000);
});
