import { randomUUID } from "node:crypto";
import { OrderCancelled, OrderConfirmed } from "@blossom/orders-contracts";
import { PaymentRefunded } from "@blossom/payments-contracts";
import { UserRegistered } from "@blossom/users-contracts";
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type NotificationsUnderTest, startNotifications } from "../testing/start-notifications.js";

const usd = (amount: number) => ({ amount, currency: "USD" as const });

let harness: NotificationsUnderTest;
beforeAll(async () => {
  harness = await startNotifications();
});
afterAll(async () => {
  await harness?.close();
});
afterEach(async () => {
  await harness.reset();
});

const notifications = () =>
  harness.host.context.db
    .selectFrom("notifications")
    .select([
      "template",
      "channel",
      "status",
      "recipient",
      "subject",
      "body",
      "source_event_id",
      "last_error",
    ])
    .orderBy("seq")
    .execute();

function anOrder(userId: string, amount = 1234) {
  const orderId = randomUUID();
  return {
    orderId,
    userId,
    items: [{ productId: "desk", quantity: 1, unitPrice: usd(amount) }],
    total: usd(amount),
  };
}

describe("event handlers", () => {
  it("keeps the user's contact and addresses order mails with it", async () => {
    const userId = randomUUID();
    await harness.publish(UserRegistered, userId, { userId, email: "gus@example.com", name: "Gus" });
    const contact = await harness.host.context.db.selectFrom("contacts").selectAll().executeTakeFirst();
    expect(contact).toMatchObject({ user_id: userId, email: "gus@example.com", name: "Gus" });

    const order = anOrder(userId);
    const { id: eventId } = await harness.publish(OrderConfirmed, order.orderId, order);
    const confirmed = (await notifications())[1];
    expect(confirmed).toMatchObject({
      template: "order-confirmed",
      recipient: "gus@example.com",
      status: "pending",
      source_event_id: eventId,
    });
    expect(confirmed?.body).toContain("Hello Gus,");
  });

  it("records an order mail for an unknown contact and sends it once the address is known", async () => {
    const userId = randomUUID();
    const order = anOrder(userId);
    await harness.publish(OrderConfirmed, order.orderId, order);
    const dispatcher = harness.dispatcher();
    await dispatcher.drain();
    expect((await notifications())[0]).toMatchObject({
      recipient: null,
      status: "pending",
      last_error: "no email address is known for this user yet",
    });

    await harness.publish(UserRegistered, userId, { userId, email: "hal@example.com", name: "Hal" });
    await sql`update notifications set next_attempt_at = now() where status = 'pending'`.execute(
      harness.host.context.db,
    );
    await dispatcher.drain();
    expect((await notifications()).map((row) => [row.template, row.status, row.recipient])).toEqual([
      ["order-confirmed", "sent", "hal@example.com"],
      ["welcome", "sent", "hal@example.com"],
    ]);
    const mailbox = await harness.host.context.db.selectFrom("mailbox").select("recipient").execute();
    expect(mailbox).toEqual([{ recipient: "hal@example.com" }, { recipient: "hal@example.com" }]);
  });

  it("says why an order was cancelled, and announces the refund only for a paid order", async () => {
    const userId = randomUUID();
    await harness.publish(UserRegistered, userId, { userId, email: "ida@example.com", name: "Ida" });
    const unpaid = anOrder(userId);
    await harness.publish(OrderCancelled, unpaid.orderId, {
      ...unpaid,
      reason: "out_of_stock",
      wasConfirmed: false,
    });
    const paid = anOrder(userId, 5000);
    await harness.publish(OrderConfirmed, paid.orderId, paid);
    await harness.publish(OrderCancelled, paid.orderId, {
      ...paid,
      reason: "cancelled_by_customer",
      wasConfirmed: true,
    });
    // Payments refunds the capture: the cancellation notice already said so, no second message.
    await harness.publish(PaymentRefunded, paid.orderId, {
      orderId: paid.orderId,
      paymentId: randomUUID(),
      amount: usd(5000),
    });

    const rows = await notifications();
    expect(rows.map((row) => row.template)).toEqual([
      "welcome",
      "order-cancelled",
      "order-confirmed",
      "order-cancelled",
    ]);
    expect(rows[1]?.body).toContain("because an item in it is out of stock.");
    expect(rows[1]?.body).toContain("You have not been charged.");
    expect(rows[3]?.subject).toMatch(/was cancelled: refund issued$/);
    expect(rows[3]?.body).toContain("because you cancelled it.");
    expect(rows[3]?.body).toContain("A refund of $50.00 has been issued");
  });

  it("tells about a refund that no cancellation announced, and ignores refunds of unknown orders", async () => {
    const userId = randomUUID();
    await harness.publish(UserRegistered, userId, { userId, email: "jo@example.com", name: "Jo" });
    const order = anOrder(userId, 1999);
    await harness.publish(OrderConfirmed, order.orderId, order);
    await harness.publish(PaymentRefunded, order.orderId, {
      orderId: order.orderId,
      paymentId: randomUUID(),
      amount: usd(500),
    });
    const stranger = randomUUID();
    const { id: strangerEvent } = await harness.publish(PaymentRefunded, stranger, {
      orderId: stranger,
      paymentId: randomUUID(),
      amount: usd(100),
    });

    const rows = await notifications();
    expect(rows.map((row) => row.template)).toEqual(["welcome", "order-confirmed", "refund-issued"]);
    expect(rows[2]).toMatchObject({
      recipient: "jo@example.com",
      subject: expect.stringMatching(/^Refund issued/),
    });
    expect(rows[2]?.body).toContain("a refund of $5.00");
    // The unknown order's event was handled (recorded in the inbox), not failed and redelivered.
    const inbox = await harness.host.context.db.selectFrom("inbox").select("event_id").execute();
    expect(inbox.map((row) => row.event_id)).toContain(strangerEvent);
  });
});
