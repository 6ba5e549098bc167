import { randomBytes, randomUUID } from "node:crypto";
import { dropPostgresDatabase, ensurePostgresDatabase, withDatabaseName } from "@blossom/store";
import { UserRegistered } from "@blossom/users-contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, type SmtpPeer, startNotifications, startSmtpPeer } from "./test-support/harness.js";

/**
 * Replicas of notifications on one PostgreSQL database, each with its own dispatchers, all
 * draining the same queue at once: `FOR UPDATE SKIP LOCKED` claims must hand every row to
 * exactly one of them. Runs when BLOSSOM_TEST_ADAPTERS names postgres (PGlite is one process
 * with one connection: it cannot race).
 */
const adapters = (process.env.BLOSSOM_TEST_ADAPTERS ?? "").split(",").map((name) => name.trim());
const serverUrl = process.env.BLOSSOM_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

describe.runIf(adapters.includes("postgres"))("dispatchers of several replicas on PostgreSQL", () => {
  const database = `blossom_test_${randomBytes(6).toString("hex")}`;
  const replicas: Harness[] = [];
  let peer: SmtpPeer;

  beforeAll(async () => {
    await ensurePostgresDatabase(serverUrl, database);
    const databaseUrl = withDatabaseName(serverUrl, database);
    peer = await startSmtpPeer();
    // One after the other: the first applies the migrations.
    replicas.push(await startNotifications({ databaseUrl }));
    replicas.push(await startNotifications({ databaseUrl }));
  }, 120_000);

  afterAll(async () => {
    for (const replica of replicas) await replica.close();
    await peer?.close();
    await dropPostgresDatabase(serverUrl, database);
  });

  it("sends every notification exactly once", async () => {
    const [first, second] = replicas as [Harness, Harness];
    const emails: string[] = [];
    for (let i = 0; i < 40; i++) {
      const userId = randomUUID();
      const email = `replica-${i}@example.com`;
      emails.push(email);
      // Events reach either replica (a shared durable consumer on NATS).
      await (i % 2 === 0 ? first : second).publish(UserRegistered, userId, { userId, email, name: `R${i}` });
    }
    const dispatchers = [first, second].flatMap((replica) =>
      [2, 3].map((batchSize) => replica.dispatcher({ smtpUrl: peer.url, batchSize })),
    );
    await Promise.all(dispatchers.map((dispatcher) => dispatcher.drain()));

    expect(peer.mails).toHaveLength(40);
    expect(peer.mails.flatMap((mail) => mail.to).sort()).toEqual(emails.sort());
    expect(dispatchers.reduce((sum, dispatcher) => sum + dispatcher.stats.sent, 0)).toBe(40);
    // The work was shared, not done by one dispatcher alone.
    expect(dispatchers.filter((dispatcher) => dispatcher.stats.sent > 0).length).toBeGreaterThan(1);
    const rows = await first.host.context.db
      .selectFrom("notifications")
      .select(["status", "attempts"])
      .execute();
    expect(rows.every((row) => row.status === "sent" && row.attempts === 1)).toBe(true);
  });
});
