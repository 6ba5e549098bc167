import { randomUUID } from "node:crypto";
import { OrderCancelled, OrderConfirmed } from "@blossom/orders-contracts";
import { UserRegistered } from "@blossom/users-contracts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type NotificationsUnderTest, startNotifications } from "../testing/start-notifications.js";

const PATH = "/api/notifications/preferences";
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

describe("GET/PUT /api/notifications/preferences", () => {
  it("needs a signed-in caller", async () => {
    expect((await harness.call("GET", PATH)).status).toBe(401);
    expect((await harness.call("PUT", PATH, { body: { email: true, sms: true, push: true } })).status).toBe(
      401,
    );
    const forged = await harness.call("GET", PATH, { token: "not.a.token" });
    expect(forged.status).toBe(401);
    expect(forged.headers.get("content-type")).toMatch(/application\/problem\+json/);
  });

  it("answers the defaults, then what the caller saved; each user has their own", async () => {
    const ann = await harness.token(randomUUID());
    const bo = await harness.token(randomUUID());
    expect(await harness.call("GET", PATH, { token: ann })).toMatchObject({
      status: 200,
      body: { email: true, sms: false, push: false },
    });
    const saved = await harness.call("PUT", PATH, {
      token: ann,
      body: { email: false, sms: true, push: true },
    });
    expect(saved).toMatchObject({ status: 200, body: { email: false, sms: true, push: true } });
    expect((await harness.call("GET", PATH, { token: ann })).body).toEqual({
      email: false,
      sms: true,
      push: true,
    });
    expect((await harness.call("GET", PATH, { token: bo })).body).toEqual({
      email: true,
      sms: false,
      push: false,
    });
    // A second PUT replaces the first.
    await harness.call("PUT", PATH, { token: ann, body: { email: true, sms: false, push: true } });
    expect((await harness.call("GET", PATH, { token: ann })).body).toEqual({
      email: true,
      sms: false,
      push: true,
    });
  });

  it("refuses malformed bodies with 400 problem+json naming the fields", async () => {
    const token = await harness.token(randomUUID());
    const missing = await harness.call<{ type: string; errors: Array<{ missing?: string }> }>("PUT", PATH, {
      token,
      body: { email: true },
    });
    expect(missing.status).toBe(400);
    expect(missing.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(missing.body.type).toBe("https://blossom.dev/problems/validation-error");
    expect(missing.body.errors.map((error) => error.missing)).toEqual(
      expect.arrayContaining(["sms", "push"]),
    );

    const notBoolean = await harness.call<{ errors: Array<{ pointer: string }> }>("PUT", PATH, {
      token,
      body: { email: "yes", sms: false, push: false },
    });
    expect(notBoolean.status).toBe(400);
    expect(notBoolean.body.errors.map((error) => error.pointer)).toContain("/email");

    for (const body of ["{oops", "[]", "null", '"email"', "42"]) {
      const answer = await harness.call("PUT", PATH, { token, body });
      expect(answer.status, body).toBe(400);
    }
    // Nothing was saved by the refused requests.
    expect((await harness.call("GET", PATH, { token })).body).toEqual({
      email: true,
      sms: false,
      push: false,
    });
  });

  it("records messages only on the channels the user enabled", async () => {
    const userId = randomUUID();
    const token = await harness.token(userId);
    await harness.publish(UserRegistered, userId, { userId, email: "fay@example.com", name: "Fay" });
    await harness.call("PUT", PATH, { token, body: { email: false, sms: true, push: true } });
    const orderId = randomUUID();
    const order = {
      orderId,
      userId,
      items: [{ productId: "lamp", quantity: 1, unitPrice: usd(999) }],
      total: usd(999),
    };
    await harness.publish(OrderConfirmed, orderId, order);
    await harness.call("PUT", PATH, { token, body: { email: false, sms: false, push: false } });
    await harness.publish(OrderCancelled, orderId, {
      ...order,
      reason: "cancelled_by_customer",
      wasConfirmed: true,
    });

    await harness.dispatcher().drain();
    const db = harness.host.context.db;
    const notifications = await db
      .selectFrom("notifications")
      .select(["template", "channel", "status", "body"])
      .orderBy("seq")
      .execute();
    expect(notifications.map((row) => [row.template, row.channel, row.status])).toEqual([
      ["welcome", "email", "sent"], // before the change: the default
      ["order-confirmed", "sms", "sent"],
      ["order-confirmed", "push", "sent"],
      // order-cancelled: every channel off, nothing recorded
    ]);
    expect(await db.selectFrom("mailbox").select("subject").execute()).toEqual([
      { subject: "Welcome to Blossom" },
    ]);
    const devices = await db
      .selectFrom("device_messages")
      .select(["channel", "user_id", "text"])
      .orderBy("channel")
      .execute();
    expect(devices).toEqual([
      {
        channel: "push",
        user_id: userId,
        text: `Blossom: order #${orderId.slice(0, 8).toUpperCase()} is confirmed ($9.99).`,
      },
      {
        channel: "sms",
        user_id: userId,
        text: `Blossom: order #${orderId.slice(0, 8).toUpperCase()} is confirmed ($9.99).`,
      },
    ]);
  });
});
