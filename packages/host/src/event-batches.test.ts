import { createEnvelope, defineEvent, messagingMigrations } from "@blossom/bus";
import { startServiceForTest } from "@blossom/testkit";
import { Type } from "@sinclair/typebox";
import { sql } from "kysely";
import { expect, it } from "vitest";
import { EMBEDDED_INBOX_BATCH } from "./event-dispatcher.js";
import { on, type ServiceDefinition } from "./service-definition.js";

// A service of the test's own on the host and the real memory bus, on its embedded store: each
// ping it takes is recorded with the transaction it ran in, and answered with a pong event.
const Pinged = defineEvent("pinger.pinged.v1", Type.Object({ n: Type.Integer() }), "a ping");
const Ponged = defineEvent("ledger.ponged.v1", Type.Object({ n: Type.Integer() }), "a pong");

interface LedgerTables {
  pings: { n: number; txid: string };
}

const ledger: ServiceDefinition<LedgerTables> = {
  name: "ledger",
  description: "takes pings",
  migrations: {
    ...messagingMigrations,
    "0001_pings": {
      async up(db) {
        await db.schema.createTable("pings").addColumn("n", "integer").addColumn("txid", "text").execute();
      },
      async down(db) {
        await db.schema.dropTable("pings").execute();
      },
    },
  },
  publishes: [Ponged],
  consumes: [
    on<LedgerTables, typeof Pinged.schema>(Pinged, async ({ data, envelope, trx, context }) => {
      const { rows } = await sql<{ txid: string }>`select txid_current()::text as txid`.execute(trx);
      await trx
        .insertInto("pings")
        .values({ n: data.n, txid: rows[0]?.txid ?? "?" })
        .execute();
      await context.outbox.add(trx, Ponged, envelope.subject, { n: data.n });
    }),
  ],
  settings: {},
  routes() {},
};

it("handles events that arrive together on the embedded store in shared transactions, each in its own correlation", async () => {
  const service = await startServiceForTest(ledger);
  try {
    expect(service.host.context.store.kind).toBe("pglite");
    const count = 2 * EMBEDDED_INBOX_BATCH;
    const pings = Array.from({ length: count }, (_, n) =>
      createEnvelope("pinger", {
        type: Pinged.type,
        subject: `ping-${n}`,
        data: { n },
        correlationId: `flow-${n}`,
      }),
    );
    // One publish: the consumer is handed all of them at once (8 at a time, its concurrency).
    await service.bus.publish(pings);
    const rows = await service.host.context.db.selectFrom("pings").selectAll().orderBy("n").execute();
    expect(rows.map((row) => row.n)).toEqual(pings.map((_, n) => n));
    const transactions = new Set(rows.map((row) => row.txid)).size;
    expect(transactions).toBeLessThan(count);
    expect(transactions).toBeGreaterThanOrEqual(2);

    // Each pong carries the correlation of the ping it answers, though it was written in a
    // transaction shared with other pings.
    await service.settle();
    const pongs = service.published.filter((event) => event.type === Ponged.type);
    expect(pongs).toHaveLength(count);
    for (const pong of pongs) expect(pong.correlationId).toBe(`flow-${(pong.data as { n: number }).n}`);
  } finally {
    await service.close();
  }
});
