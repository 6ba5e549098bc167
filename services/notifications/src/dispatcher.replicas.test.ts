import { randomUUID } from "node:crypto";
import { testStoreFactories } from "@blossom/testkit";
import { UserRegistered } from "@blossom/users-contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SmtpPeer, startSmtpPeer } from "./testing/smtp-peer.js";
import { type NotificationsUnderTest, startNotifications } from "./testing/start-notifications.js";

/**
 * Replicas of notifications on one PostgreSQL database, each with its own dispatchers, all
 * draining the same queue at once: `FOR UPDATE SKIP LOCKED` claims must hand every row to
 * exactly one of them. Runs when BLOSSOM_TEST_ADAPTERS names postgres (PGlite is one process
 * with one connection: it cannot race).
 */
const postgres = testStoreFactories().find((factory) => factory.adapter === "postgres");

describe.runIf(postgres)("dispatchers of several replicas on PostgreSQL", () => {
  let notifications: NotificationsUnderTest;
  let peer: SmtpPeer;

  beforeAll(async () => {
    peer = await startSmtpPeer();
    notifications = await startNotifications({ store: postgres, replicas: 2 });
  }, 120_000);

  afterAll(async () => {
    await notifications?.close();
    await peer?.close();
  });

  it("sends every notification exactly once", async () => {
    expect(notifications.hosts).toHaveLength(2);
    const emails: string[] = [];
    for (let i = 0; i < 40; i++) {
      const userId = randomUUID();
      const email = `replica-${i}@example.com`;
      emails.push(email);
      // Events reach either replica: the members of one consumer name share them.
      await notifications.publish(UserRegistered, userId, { userId, email, name: `R${i}` });
    }
    const dispatchers = notifications.hosts.flatMap((host) =>
      [2, 3].map((batchSize) => notifications.dispatcher({ smtpUrl: peer.url, batchSize }, host)),
    );
    await Promise.all(dispatchers.map((dispatcher) => dispatcher.drain()));

    expect(peer.mails).toHaveLength(40);
    expect(peer.mails.flatMap((mail) => mail.to).sort()).toEqual(emails.sort());
    expect(dispatchers.reduce((sum, dispatcher) => sum + dispatcher.stats.sent, 0)).toBe(40);
    // The work was shared, not done by one dispatcher alone.
    expect(dispatchers.filter((dispatcher) => dispatcher.stats.sent > 0).length).toBeGreaterThan(1);
    const rows = await notifications.host.context.db
      .selectFrom("notifications")
      .select(["status", "attempts"])
      .execute();
    expect(rows.every((row) => row.status === "sent" && row.attempts === 1)).toBe(true);
  });
});
