import { randomUUID } from "node:crypto";
import { OrderConfirmed } from "@blossom/orders-contracts";
import { eventually, freePort } from "@blossom/testkit";
import { UserRegistered } from "@blossom/users-contracts";
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { NotificationDispatcher } from "./dispatcher.js";
import type { Channel } from "./domain/channel.js";
import { type SmtpPeer, startSmtpPeer } from "./testing/smtp-peer.js";
import { type NotificationsUnderTest, startNotifications } from "./testing/start-notifications.js";

const usd = (amount: number) => ({ amount, currency: "USD" as const });

// One host for the file (a PGlite start costs seconds); every test starts from empty tables.
let harness: NotificationsUnderTest;
let peer: SmtpPeer | undefined;
beforeAll(async () => {
  harness = await startNotifications();
});
afterAll(async () => {
  await harness?.close();
});
afterEach(async () => {
  await harness.reset();
  await peer?.close();
  peer = undefined;
});

async function register(
  h: NotificationsUnderTest,
  name = "Ann",
  email = `${name.toLowerCase()}-${randomUUID()}@example.com`,
) {
  const userId = randomUUID();
  const { id: eventId } = await h.publish(UserRegistered, userId, { userId, email, name });
  return { userId, email, eventId };
}

function rows(h: NotificationsUnderTest, userId?: string) {
  let query = h.host.context.db
    .selectFrom("notifications")
    .select([
      "id",
      "channel",
      "template",
      "status",
      "recipient",
      "subject",
      "attempts",
      "next_attempt_at",
      "last_error",
    ])
    .orderBy("seq");
  if (userId) query = query.where("user_id", "=", userId);
  return query.execute();
}

/** Makes every scheduled retry due now (instead of waiting for the backoff). */
async function makeDue(h: NotificationsUnderTest): Promise<void> {
  await sql`update notifications set next_attempt_at = now() where status = 'pending'`.execute(
    h.host.context.db,
  );
}

describe("delivery through a real SMTP server", () => {
  it("sends the welcome and the order confirmation with To, Subject and text body", async () => {
    peer = await startSmtpPeer();
    const { userId, email } = await register(harness, "Ann");
    const orderId = randomUUID();
    await harness.publish(OrderConfirmed, orderId, {
      orderId,
      userId,
      items: [{ productId: "desk-oak", quantity: 2, unitPrice: usd(1234) }],
      total: usd(2468),
    });

    // Recorded in the inbox transaction, not sent: delivery waits for the dispatcher.
    expect((await rows(harness, userId)).map((row) => row.status)).toEqual(["pending", "pending"]);
    expect(peer.mails).toHaveLength(0);

    await harness.dispatcher({ smtpUrl: peer.url }).drain();
    expect(peer.mails).toHaveLength(2);
    const [welcome, confirmed] = peer.mails;
    expect(welcome?.to).toEqual([email]);
    expect(welcome?.headers.to).toBe(email);
    expect(welcome?.headers.from).toBe("Blossom <shop@blossom.test>");
    expect(welcome?.headers.subject).toBe("Welcome to Blossom");
    expect(welcome?.text).toContain("Hello Ann,");
    expect(welcome?.text).toContain("your Blossom account is ready");

    expect(confirmed?.to).toEqual([email]);
    expect(confirmed?.headers.subject).toBe(`Your order #${orderId.slice(0, 8).toUpperCase()} is confirmed`);
    expect(confirmed?.text).toContain("Hello Ann,");
    expect(confirmed?.text).toContain("2 × desk-oak at $12.34 = $24.68");
    expect(confirmed?.text).toContain("Total: $24.68");
    const stored = await rows(harness, userId);
    expect(stored.map((row) => [row.template, row.status, row.attempts])).toEqual([
      ["welcome", "sent", 1],
      ["order-confirmed", "sent", 1],
    ]);
    // The notification id is the Message-ID: a rare resend is recognisable downstream.
    expect(confirmed?.headers["message-id"]).toBe(`<${stored[1]?.id}@blossom>`);
  });

  it("delivers the same event once, however often the bus delivers it", async () => {
    peer = await startSmtpPeer();
    const userId = randomUUID();
    const data = { userId, email: "bo@example.com", name: "Bo" };
    const id = randomUUID();
    await harness.publish(UserRegistered, userId, data, id);
    await harness.publish(UserRegistered, userId, data, id);
    const dispatcher = harness.dispatcher({ smtpUrl: peer.url });
    await dispatcher.drain();
    await harness.publish(UserRegistered, userId, data, id);
    await dispatcher.drain();
    expect(peer.mails).toHaveLength(1);
    expect(await rows(harness, userId)).toHaveLength(1);
  });

  it("never sends one notification twice when several dispatchers compete", async () => {
    peer = await startSmtpPeer();
    const users = [];
    for (let i = 0; i < 12; i++) users.push(await register(harness, `User${i}`));
    const smtpUrl = peer.url;
    const dispatchers = [2, 3, 20].map((batchSize) => harness.dispatcher({ smtpUrl, batchSize }));
    await Promise.all(dispatchers.map((dispatcher) => dispatcher.drain()));
    expect(peer.mails).toHaveLength(12);
    expect(new Set(peer.mails.flatMap((mail) => mail.to))).toEqual(new Set(users.map((user) => user.email)));
    expect(dispatchers.reduce((sum, dispatcher) => sum + dispatcher.stats.sent, 0)).toBe(12);
    expect((await rows(harness)).every((row) => row.status === "sent" && row.attempts === 1)).toBe(true);
  });

  it("takes over a row whose dispatcher died mid-send once its claim expired", async () => {
    peer = await startSmtpPeer();
    const { userId } = await register(harness);
    const db = harness.host.context.db;
    await sql`update notifications set status = 'sending', claim_token = 'dead', attempts = 1,
      claimed_until = now() + interval '1 hour'`.execute(db);
    const dispatcher = harness.dispatcher({ smtpUrl: peer.url });
    await dispatcher.drain();
    expect(peer.mails).toHaveLength(0); // still held by the (presumed live) claim
    await sql`update notifications set claimed_until = now() - interval '1 second'`.execute(db);
    await dispatcher.drain();
    expect(peer.mails).toHaveLength(1);
    expect((await rows(harness, userId))[0]).toMatchObject({ status: "sent", attempts: 2 });
  });
});

describe("retries", () => {
  it("retries with exponential backoff while SMTP is down, then delivers when it comes up", async () => {
    const port = await freePort();
    const { userId, email } = await register(harness);
    const dispatcher = harness.dispatcher({
      smtpUrl: `smtp://127.0.0.1:${port}`,
      retry: { baseDelayMs: 60_000, maxDelayMs: 3_600_000 },
    });

    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const before = Date.now();
      await dispatcher.drain();
      const [row] = await rows(harness, userId);
      expect(row).toMatchObject({ status: "pending", attempts: attempt });
      expect(row?.last_error).toMatch(/ECONNREFUSED|connect/i);
      delays.push(Math.round(((row?.next_attempt_at.getTime() ?? 0) - before) / 60_000));
      // Not due yet: another pass leaves it alone.
      await dispatcher.drain();
      expect((await rows(harness, userId))[0]?.attempts).toBe(attempt);
      await makeDue(harness);
    }
    expect(delays).toEqual([1, 2, 4]); // minutes: 60 s · 2^(attempt-1)
    expect(dispatcher.stats).toMatchObject({ sent: 0, retried: 3, failed: 0 });

    peer = await startSmtpPeer({ port });
    await dispatcher.drain();
    expect(peer.mails.map((mail) => mail.to)).toEqual([[email]]);
    expect((await rows(harness, userId))[0]).toMatchObject({ status: "sent", attempts: 4, last_error: null });
  });

  it("retries in the background loop until the server comes up", async () => {
    const port = await freePort();
    const { userId } = await register(harness);
    const dispatcher = harness
      .dispatcher({
        smtpUrl: `smtp://127.0.0.1:${port}`,
        pollIntervalMs: 20,
        retry: { baseDelayMs: 50, maxDelayMs: 200 },
      })
      .start();
    await eventually(async () => ((await rows(harness, userId))[0]?.attempts ?? 0) >= 2, 10_000);
    peer = await startSmtpPeer({ port });
    await eventually(async () => (await rows(harness, userId))[0]?.status === "sent", 10_000);
    expect(peer.mails).toHaveLength(1);
    await dispatcher.stop();
  });

  it("marks the notification failed after the configured number of attempts", async () => {
    const port = await freePort();
    const { userId } = await register(harness);
    const dispatcher = harness.dispatcher({
      smtpUrl: `smtp://127.0.0.1:${port}`,
      maxAttempts: 3,
      retry: { baseDelayMs: 10 },
    });
    for (let i = 0; i < 5; i++) {
      await dispatcher.drain();
      await makeDue(harness);
    }
    expect((await rows(harness, userId))[0]).toMatchObject({ status: "failed", attempts: 3 });
    expect(dispatcher.stats).toMatchObject({ sent: 0, retried: 2, failed: 1 });
  });

  it("fails at once when the server refuses the recipient for good (550)", async () => {
    peer = await startSmtpPeer({ reject: /^nobody@/ });
    const { userId } = await register(harness, "Nobody", "nobody@example.com");
    await harness.dispatcher({ smtpUrl: peer.url }).drain();
    expect((await rows(harness, userId))[0]).toMatchObject({ status: "failed", attempts: 1 });
    expect(peer.mails).toHaveLength(0);
  });
});

describe("stopping", () => {
  it("lets the message in flight finish and hands the rest of its batch back, attempts not counted", async () => {
    for (const name of ["Kim", "Lou", "Max"]) await register(harness, name);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sent: string[] = [];
    let started: () => void = () => {};
    const firstSend = new Promise<void>((resolve) => {
      started = resolve;
    });
    const email: Channel = {
      name: "email",
      adapter: "gated",
      async send(message) {
        started();
        await gate;
        sent.push(message.recipient);
      },
    };
    const { sms, push } = {
      sms: { ...email, name: "sms" as const },
      push: { ...email, name: "push" as const },
    };
    const dispatcher = new NotificationDispatcher(harness.host.context, { email, sms, push });
    const draining = dispatcher.drain();
    await firstSend;
    const stopping = dispatcher.stop();
    release();
    await Promise.all([draining, stopping]);

    expect(sent).toHaveLength(1);
    const stored = await rows(harness);
    expect(stored.map((row) => [row.status, row.attempts])).toEqual([
      ["sent", 1],
      ["pending", 0],
      ["pending", 0],
    ]);
  });
});

describe("without SMTP", () => {
  it("delivers email to the local mailbox", async () => {
    const { userId, email } = await register(harness, "Cy");
    await harness.dispatcher().drain();
    const mailbox = await harness.host.context.db.selectFrom("mailbox").selectAll().execute();
    expect(mailbox).toEqual([
      expect.objectContaining({
        recipient: email,
        subject: "Welcome to Blossom",
        body: expect.stringContaining("Hello Cy,"),
      }),
    ]);
    expect((await rows(harness, userId))[0]).toMatchObject({ status: "sent", channel: "email" });
    // The sent event leaves through the outbox.
    const events = await harness.host.context.db.selectFrom("outbox").select(["type", "subject"]).execute();
    expect(events).toEqual([{ type: "notifications.notification-sent.v1", subject: userId }]);
  });
});
