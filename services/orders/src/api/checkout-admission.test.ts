import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OrdersUnderTest, orderBody, startOrders } from "../testing/start-orders.js";
import { CheckoutAdmission } from "./checkout-admission.js";

describe("CheckoutAdmission", () => {
  it("admits up to the limit (last count + written since + being placed), then sheds with 503 + Retry-After", async () => {
    let now = 0;
    let counts = 0;
    let inDatabase = 1;
    const admission = new CheckoutAdmission({
      maxPending: 3,
      countPending: async () => {
        counts++;
        return inDatabase;
      },
      now: () => now,
    });
    const first = await admission.admit();
    const second = await admission.admit();
    const refused = await admission.admit().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ status: 503, headers: { "retry-after": "1" } });
    expect(String((refused as Error).message)).toMatch(/nothing was done/);
    expect(counts).toBe(1);
    expect(admission.pending).toBe(3);

    // One gave up before writing (a 422): its place is free. The other wrote its order.
    first.release(false);
    second.release(true);
    second.release(true);
    expect(admission.pending).toBe(2);
    // A count 100 ms later sees the written order, and the saga has settled the older one.
    inDatabase = 1;
    now = 100;
    const third = await admission.admit();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(counts).toBe(2);
    expect(admission.pending).toBe(2);
    third.release(true);
  });

  it("decides without waiting for a count that hangs (a busy database), and stricter meanwhile", async () => {
    let now = 0;
    let release: (count: number) => void = () => {};
    const admission = new CheckoutAdmission({
      maxPending: 2,
      countPending: () => new Promise<number>((resolve) => (release = resolve)),
      now: () => now,
    });
    const first = admission.admit();
    release(0);
    (await first).release(true);
    (await admission.admit()).release(true);
    now = 100;
    // The new count hangs: the decision uses the last one plus the two orders written since.
    await expect(admission.admit()).rejects.toMatchObject({ status: 503 });
    release(0);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(admission.pending).toBe(0);
  });

  it("counts once for concurrent admissions", async () => {
    let counts = 0;
    const admission = new CheckoutAdmission({
      maxPending: 10,
      countPending: async () => {
        counts++;
        await new Promise((resolve) => setTimeout(resolve, 10));
        return 0;
      },
    });
    await Promise.all(Array.from({ length: 5 }, () => admission.admit()));
    expect(counts).toBe(1);
    expect(admission.pending).toBe(5);
  });

  it("refuses a limit below 1 (ORDERS_MAX_PENDING_CHECKOUTS is validated at start-up)", () => {
    expect(() => new CheckoutAdmission({ maxPending: 0, countPending: async () => 0 })).toThrow(RangeError);
  });
});

/**
 * The orders service with ORDERS_MAX_PENDING_CHECKOUTS=2 and no saga to settle its orders (no
 * inventory or payments consumers): the third checkout finds the backlog full.
 */
describe("POST /api/orders when the checkouts in progress reach ORDERS_MAX_PENDING_CHECKOUTS", () => {
  let orders: OrdersUnderTest;

  beforeAll(async () => {
    orders = await startOrders({ ORDERS_MAX_PENDING_CHECKOUTS: 2 });
  });

  afterAll(async () => {
    await orders?.close();
  });

  const body = orderBody(1);

  it("sheds the excess with 503 checkouts-shed + Retry-After before reading, asking inventory or writing", async () => {
    const token = await orders.token(randomUUID());
    const place = (key: string) =>
      orders.call<{ id: string; type?: string }>("POST", "/api/orders", {
        body,
        token,
        headers: { "idempotency-key": key },
      });
    const keys = [randomUUID(), randomUUID(), randomUUID()];
    const first = await place(keys[0] as string);
    const second = await place(keys[1] as string);
    expect([first.status, second.status]).toEqual([202, 202]);

    const shed = await place(keys[2] as string);
    expect(shed.status).toBe(503);
    expect(shed.headers.get("retry-after")).toBe("1");
    expect(shed.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(shed.body.type).toBe("https://blossom.dev/problems/checkouts-shed");
    // Refused before anything: inventory was asked for two orders' prices, and only two exist.
    expect(orders.priceRequests()).toBe(2);
    const list = await orders.call<{ items: Array<{ id: string }> }>("GET", "/api/orders", {
      token,
    });
    expect(list.body.items.map((order) => order.id).sort()).toEqual([first.body.id, second.body.id].sort());

    // Shed before anything is read, a retry of an accepted order too: it is answered once there is room.
    const retried = await place(keys[0] as string);
    expect(retried.status).toBe(503);
  });
});
