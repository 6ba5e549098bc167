import { randomUUID } from "node:crypto";
import { OrderCancelled, OrderConfirmed } from "@blossom/orders-contracts";
import { UserRegistered } from "@blossom/users-contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NotificationsUnderTest, startNotifications } from "../testing/start-notifications.js";

interface Item {
  id: string;
  channel: string;
  template: string;
  status: string;
  subject: string;
  createdAt: string;
}
interface Page {
  items: Item[];
  nextCursor: string | null;
}

const usd = (amount: number) => ({ amount, currency: "USD" as const });

let harness: NotificationsUnderTest;
const ann = randomUUID();
const bo = randomUUID();
const admin = randomUUID();
let annToken: string;
let boToken: string;
let adminToken: string;

beforeAll(async () => {
  harness = await startNotifications();
  await harness.publish(UserRegistered, ann, { userId: ann, email: "ann@example.com", name: "Ann" });
  await harness.publish(UserRegistered, bo, { userId: bo, email: "bo@example.com", name: "Bo" });
  const orderId = randomUUID();
  const order = {
    orderId,
    userId: ann,
    items: [{ productId: "desk", quantity: 1, unitPrice: usd(1234) }],
    total: usd(1234),
  };
  await harness.publish(OrderConfirmed, orderId, order);
  await harness.publish(OrderCancelled, orderId, { ...order, reason: "timeout", wasConfirmed: true });
  annToken = await harness.token(ann);
  boToken = await harness.token(bo);
  adminToken = await harness.token(admin, "admin");
});
afterAll(async () => {
  await harness?.close();
});

const list = (query: string, token?: string) =>
  harness.call<Page>("GET", `/api/notifications${query}`, token ? { token } : {});

describe("GET /api/notifications", () => {
  it("needs a signed-in caller", async () => {
    const anonymous = await list("");
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
    // The old way of asking for anyone's notifications is gone.
    expect((await list(`?userId=${ann}`)).status).toBe(401);
  });

  it("lists the caller's own notifications, newest first, and nobody else's", async () => {
    const own = await list("", annToken);
    expect(own.status).toBe(200);
    expect(own.body.nextCursor).toBeNull();
    expect(own.body.items.map((item) => item.template)).toEqual([
      "order-cancelled",
      "order-confirmed",
      "welcome",
    ]);
    for (const item of own.body.items) {
      expect(Object.keys(item).sort()).toEqual([
        "channel",
        "createdAt",
        "id",
        "status",
        "subject",
        "template",
      ]);
      expect(item).toMatchObject({ channel: "email", status: "pending" });
      expect(new Date(item.createdAt).toISOString()).toBe(item.createdAt);
    }
    expect(own.body.items[0]?.subject).toMatch(/was cancelled: refund issued$/);

    const other = await list("", boToken);
    expect(other.body.items.map((item) => item.template)).toEqual(["welcome"]);
    const annIds = new Set(own.body.items.map((item) => item.id));
    expect(other.body.items.some((item) => annIds.has(item.id))).toBe(false);
  });

  it("shows the delivery status once the dispatcher has run", async () => {
    await harness.dispatcher().drain();
    const own = await list("", annToken);
    expect(own.body.items.map((item) => item.status)).toEqual(["sent", "sent", "sent"]);
  });

  it("lets only an admin name another user", async () => {
    const forbidden = await list(`?userId=${ann}`, boToken);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ type: "https://blossom.dev/problems/forbidden" });
    // Naming yourself is fine.
    expect((await list(`?userId=${bo}`, boToken)).body.items).toHaveLength(1);

    const asAdmin = await list(`?userId=${ann}`, adminToken);
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body.items.map((item) => item.template)).toEqual([
      "order-cancelled",
      "order-confirmed",
      "welcome",
    ]);
    // Without userId, an admin sees their own (none).
    expect((await list("", adminToken)).body).toEqual({ items: [], nextCursor: null });
  });

  it("pages with limit and cursor", async () => {
    const all = (await list("", annToken)).body.items.map((item) => item.id);
    const first = await list("?limit=2", annToken);
    expect(first.body.items.map((item) => item.id)).toEqual(all.slice(0, 2));
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await list(`?limit=2&cursor=${first.body.nextCursor}`, annToken);
    expect(second.body.items.map((item) => item.id)).toEqual(all.slice(2));
    expect(second.body.nextCursor).toBeNull();
    // A cursor from someone else's page leaks nothing: it is only a position in the caller's own list.
    const boPage = await list(`?limit=1&cursor=${first.body.nextCursor}`, boToken);
    expect(boPage.status).toBe(200);
    expect(boPage.body.items.every((item) => !all.includes(item.id))).toBe(true);
  });

  it("answers malformed queries with 400", async () => {
    for (const query of [
      "?limit=0",
      "?limit=101",
      "?limit=abc",
      "?cursor=garbage",
      "?userId=",
      `?cursor=${"x".repeat(300)}`,
    ]) {
      const answer = await list(query, annToken);
      expect(answer.status, query).toBe(400);
      expect(answer.headers.get("content-type"), query).toMatch(/application\/problem\+json/);
    }
  });
});
