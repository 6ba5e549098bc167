import { randomUUID } from "node:crypto";
import { slowBody } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OrdersUnderTest, orderBody, startOrders } from "../testing/start-orders.js";

/**
 * Orders started by the test kit (the real host on PGlite, memory bus), with a stand-in
 * inventory that prices every product at 1250: what `POST /api/orders` answers, first and on a
 * replay.
 */
let orders: OrdersUnderTest;
let url: string;

beforeAll(async () => {
  orders = await startOrders();
  url = orders.url;
});

afterAll(async () => {
  await orders?.close();
});

const order = orderBody(2);

async function place(token: string, idempotencyKey: string, body: unknown = order) {
  const response = await fetch(`${url}/api/orders`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      "idempotency-key": idempotencyKey,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
}

describe("POST /api/orders replayed with the same Idempotency-Key", () => {
  it("answers what the first request answered: 202 and the same body, marked as a replay", async () => {
    const token = await orders.token(randomUUID());
    const idempotencyKey = randomUUID();
    const first = await place(token, idempotencyKey);
    expect(first.status).toBe(202);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(first.body).toMatchObject({ status: "pending", total: { amount: 2500, currency: "USD" } });

    const replay = await place(token, idempotencyKey);
    expect(replay.status).toBe(202);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual(first.body);
  });

  it("answers the original answer even after the order moved on; GET tells its state now", async () => {
    const token = await orders.token(randomUUID());
    const idempotencyKey = randomUUID();
    const first = await place(token, idempotencyKey);
    const { id } = first.body as { id: string };
    await orders.host.store.db
      .updateTable("orders")
      .set({ status: "cancelled", cancellation_reason: "payment_declined" })
      .where("id", "=", id)
      .execute();

    const replay = await place(token, idempotencyKey);
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual(first.body);
    const now = await fetch(`${url}/api/orders/${id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(await now.json()).toMatchObject({ id, status: "cancelled" });
  });

  it("gives concurrent requests with one key one order and one answer", async () => {
    const token = await orders.token(randomUUID());
    const idempotencyKey = randomUUID();
    const answers = await Promise.all([1, 2, 3, 4].map(() => place(token, idempotencyKey)));
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 202]);
    expect(new Set(answers.map((answer) => JSON.stringify(answer.body))).size).toBe(1);
  });

  it("still refuses the same key with another body (422)", async () => {
    const token = await orders.token(randomUUID());
    const idempotencyKey = randomUUID();
    expect((await place(token, idempotencyKey)).status).toBe(202);
    const other = await place(token, idempotencyKey, {
      ...order,
      items: [{ productId: "p-lamp", quantity: 3 }],
    });
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ type: "https://blossom.dev/problems/idempotency-key-reused" });
  });
});

describe("POST /api/orders with a body over the limit, straight at the service", () => {
  it.each([
    ["with a token, streamed", true, () => slowBody(3 * 1024 * 1024)],
    ["without a token, streamed", false, () => slowBody(3 * 1024 * 1024)],
    ["with a token, 10 MB sent whole", true, () => `{"pad":"${"x".repeat(10 * 1024 * 1024)}"}`],
  ] as const)("%s: 413 problem+json, not a reset connection", async (_label, withToken, body) => {
    const token = await orders.token(randomUUID());
    const response = await fetch(`${url}/api/orders`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "idempotency-key": randomUUID(),
        ...(withToken ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body(),
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ type: "https://blossom.dev/problems/payload-too-large" });
  });
});
