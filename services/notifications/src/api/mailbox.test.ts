import { randomUUID } from "node:crypto";
import { OrderConfirmed } from "@blossom/orders-contracts";
import { UserRegistered } from "@blossom/users-contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NotificationsUnderTest, startNotifications } from "../testing/start-notifications.js";

interface Message {
  id: string;
  userId: string;
  channel: string;
  template: string;
  recipient: string;
  subject: string;
  body: string;
  deliveredAt: string;
}
interface Page {
  items: Message[];
  nextCursor: string | null;
}

let harness: NotificationsUnderTest;
const ann = randomUUID();
const bo = randomUUID();
let annToken: string;
let adminToken: string;

beforeAll(async () => {
  harness = await startNotifications();
  annToken = await harness.token(ann);
  adminToken = await harness.token(randomUUID(), "admin");
  await harness.publish(UserRegistered, ann, { userId: ann, email: "ann@example.com", name: "Ann" });
  await harness.publish(UserRegistered, bo, { userId: bo, email: "bo@example.com", name: "Bo" });
  // Ann wants every channel: her order confirmation goes by email, sms and push.
  const saved = await harness.call("PUT", "/api/notifications/preferences", {
    token: annToken,
    body: { email: true, sms: true, push: true },
  });
  expect(saved.status).toBe(200);
  const orderId = randomUUID();
  await harness.publish(OrderConfirmed, orderId, {
    orderId,
    userId: ann,
    items: [{ productId: "desk", quantity: 1, unitPrice: { amount: 1234, currency: "USD" } }],
    total: { amount: 1234, currency: "USD" },
  });
  await harness.dispatcher().drain();
});
afterAll(async () => {
  await harness?.close();
});

const mailbox = (query: string, token?: string) =>
  harness.call<Page>("GET", `/api/notifications/mailbox${query}`, token ? { token } : {});

describe("GET /api/notifications/mailbox", () => {
  it("is for admins only", async () => {
    expect((await mailbox("")).status).toBe(401);
    expect((await mailbox("", annToken)).status).toBe(403);
  });

  it("lists what the development sinks received, with bodies, newest first", async () => {
    const all = await mailbox("", adminToken);
    expect(all.status).toBe(200);
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.items.map((item) => `${item.template}/${item.channel}`).sort()).toEqual(
      [
        "order-confirmed/email",
        "order-confirmed/push",
        "order-confirmed/sms",
        "welcome/email",
        "welcome/email",
      ].sort(),
    );
    const email = all.body.items.find(
      (item) => item.template === "order-confirmed" && item.channel === "email",
    );
    expect(email).toMatchObject({ userId: ann, recipient: "ann@example.com" });
    expect(email?.body.length).toBeGreaterThan(0);
    expect(email?.subject.length).toBeGreaterThan(0);
    const sms = all.body.items.find((item) => item.channel === "sms");
    expect(sms).toMatchObject({ userId: ann, recipient: ann, template: "order-confirmed" });
    // Newest first: the welcome emails came before the order's messages.
    expect(all.body.items.at(-1)?.template).toBe("welcome");
  });

  it("filters by channel and by recipient (an address or a user id)", async () => {
    const sms = await mailbox("?channel=sms", adminToken);
    expect(sms.body.items.map((item) => item.channel)).toEqual(["sms"]);
    const byAddress = await mailbox("?recipient=bo%40example.com", adminToken);
    expect(byAddress.body.items.map((item) => item.userId)).toEqual([bo]);
    const byUser = await mailbox(`?recipient=${ann}&channel=email`, adminToken);
    expect(byUser.body.items.map((item) => item.template)).toEqual(["order-confirmed", "welcome"]);
  });

  it("pages with limit and cursor", async () => {
    const all = (await mailbox("", adminToken)).body.items.map((item) => item.id);
    const first = await mailbox("?limit=3", adminToken);
    expect(first.body.items.map((item) => item.id)).toEqual(all.slice(0, 3));
    const second = await mailbox(`?limit=3&cursor=${first.body.nextCursor}`, adminToken);
    expect(second.body.items.map((item) => item.id)).toEqual(all.slice(3));
    expect(second.body.nextCursor).toBeNull();
    for (const query of ["?limit=0", "?cursor=garbage", "?channel=fax", "?recipient="])
      expect((await mailbox(query, adminToken)).status, query).toBe(400);
  });
});
