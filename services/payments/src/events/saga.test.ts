import { randomUUID } from "node:crypto";
import { OrderCancelled, OrderConfirmed, PaymentRequested } from "@blossom/orders-contracts";
import { type ServiceUnderTest, startServiceForTest } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProviderMoney } from "../domain/payment-provider.js";
import { TEST_CARDS, TestPaymentProvider } from "../providers/test-provider.js";
import { createPaymentsService } from "../service.js";
import type { PaymentsSettingsSchema } from "../settings.js";
import type { PaymentsTables } from "../store/tables.js";

/** Payments started by the test kit: PGlite, a memory bus, every log line, every event it published. */
type Payments = ServiceUnderTest<PaymentsTables, PaymentsSettingsSchema>;

const YEAR = new Date().getUTCFullYear();
const USD = (amount: number) => ({ amount, currency: "USD" as const });

interface PaymentView {
  id: string;
  orderId: string;
  userId: string;
  amount: { amount: number; currency: string };
  status: string;
  declineReason: string | null;
  createdAt: string;
}

async function newCustomer(payments: Payments, cardNumber: string = TEST_CARDS.succeeds) {
  const userId = randomUUID();
  const token = await payments.token(userId);
  const created = await payments.call<{ id: string }>("POST", "/api/payments/methods", {
    token,
    body: { cardNumber, expMonth: 12, expYear: YEAR + 2, cvc: "123" },
  });
  expect(created.status).toBe(201);
  return { userId, token, methodId: created.body.id };
}

function orderLines() {
  return [{ productId: "desk-1", quantity: 1, unitPrice: USD(2500) }];
}

async function request(
  payments: Payments,
  customer: { userId: string; methodId: string },
  orderId = randomUUID(),
) {
  const envelope = await payments.publish(PaymentRequested, orderId, {
    orderId,
    userId: customer.userId,
    amount: USD(2500),
    paymentMethodId: customer.methodId,
  });
  await payments.settle();
  return { orderId, envelope };
}

function confirm(payments: Payments, orderId: string, userId: string) {
  return payments.publish(OrderConfirmed, orderId, {
    orderId,
    userId,
    items: orderLines(),
    total: USD(2500),
  });
}

function cancel(payments: Payments, orderId: string, userId: string, wasConfirmed: boolean) {
  return payments.publish(OrderCancelled, orderId, {
    orderId,
    userId,
    items: orderLines(),
    total: USD(2500),
    reason: "cancelled_by_customer",
    wasConfirmed,
  });
}

/** The events payments published about one order, in order. */
const eventsOf = (payments: Payments, orderId: string) =>
  payments.published
    .filter((event) => event.subject === orderId)
    .map((event) => ({ type: event.type, data: event.data as Record<string, unknown> }));

const types = (payments: Payments, orderId: string) => eventsOf(payments, orderId).map((event) => event.type);

/** The test provider, recording every call it gets (operation and idempotency key). */
class RecordingProvider extends TestPaymentProvider {
  readonly calls: string[] = [];
  override authorize(token: string, amount: ProviderMoney, key: string) {
    this.calls.push(key);
    return super.authorize(token, amount, key);
  }
  override capture(authorizationId: string, amount: ProviderMoney, key: string) {
    this.calls.push(key);
    return super.capture(authorizationId, amount, key);
  }
  override refund(captureId: string, amount: ProviderMoney, key: string) {
    this.calls.push(key);
    return super.refund(captureId, amount, key);
  }
  override void(authorizationId: string, key: string) {
    this.calls.push(key);
    return super.void(authorizationId, key);
  }
  callsFor(orderId: string): string[] {
    return this.calls.filter((key) => key.endsWith(`:${orderId}`));
  }
}

const provider = new RecordingProvider();
let payments: Payments;

beforeAll(async () => {
  payments = await startServiceForTest(createPaymentsService({ provider: () => provider }), {
    logLevel: "trace",
  });
});

afterAll(async () => {
  await payments?.close();
});

describe("authorization on orders.payment-requested.v1", () => {
  it("authorizes 4242…: PaymentAuthorized with the amount", async () => {
    const customer = await newCustomer(payments);
    const { orderId } = await request(payments, customer);
    const events = eventsOf(payments, orderId);
    expect(events).toEqual([
      {
        type: "payments.payment-authorized.v1",
        data: { orderId, paymentId: expect.any(String), amount: USD(2500) },
      },
    ]);
    const [payment] = (
      await payments.call<{ items: PaymentView[] }>("GET", `/api/payments?orderId=${orderId}`, {
        token: customer.token,
      })
    ).body.items;
    expect(payment).toMatchObject({
      id: events[0]?.data.paymentId,
      status: "authorized",
      amount: USD(2500),
      declineReason: null,
    });
  });

  it.each([
    [TEST_CARDS.declined, "declined"],
    [TEST_CARDS.insufficientFunds, "insufficient_funds"],
  ])("declines %s with reason %s", async (cardNumber, reason) => {
    const customer = await newCustomer(payments, cardNumber);
    const { orderId } = await request(payments, customer);
    expect(eventsOf(payments, orderId)).toEqual([
      { type: "payments.payment-declined.v1", data: { orderId, paymentId: expect.any(String), reason } },
    ]);
  });

  it("declines an unknown payment method, and another user's, as unknown_payment_method", async () => {
    const customer = await newCustomer(payments);
    const unknown = await request(payments, { userId: customer.userId, methodId: randomUUID() });
    const stolen = await request(payments, { userId: randomUUID(), methodId: customer.methodId });
    for (const { orderId } of [unknown, stolen]) {
      expect(eventsOf(payments, orderId)).toEqual([
        {
          type: "payments.payment-declined.v1",
          data: { orderId, paymentId: expect.any(String), reason: "unknown_payment_method" },
        },
      ]);
    }
  });

  it("retries the transient card with the bus's backoff, committing nothing until it succeeds", async () => {
    const customer = await newCustomer(payments, TEST_CARDS.transient);
    const started = performance.now();
    const { orderId, envelope } = await request(payments, customer);
    // Two failures (the default), redelivered after 100 ms and 500 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(550);
    expect(types(payments, orderId)).toEqual(["payments.payment-authorized.v1"]);
    expect(await payments.bus.deadLetters("payments")).toEqual([]);
    const db = payments.host.store.db;
    expect(
      await db.selectFrom("payments").select("status").where("order_id", "=", orderId).execute(),
    ).toEqual([{ status: "authorized" }]);
    // Three provider calls (two failed), one outbox event: the failed attempts committed nothing.
    expect(provider.callsFor(orderId)).toEqual([1, 2, 3].map(() => `authorize:${orderId}`));
    expect(await db.selectFrom("outbox").select("type").where("subject", "=", orderId).execute()).toEqual([
      { type: "payments.payment-authorized.v1" },
    ]);
    // The inbox holds the event once: only the successful attempt committed.
    expect(
      await db.selectFrom("inbox").select("event_id").where("event_id", "=", envelope.id).execute(),
    ).toEqual([{ event_id: envelope.id }]);
    const logs = payments.logLines.map(
      (line) => JSON.parse(line) as { msg: string; event_id?: string; attempt?: number },
    );
    const failures = logs.filter(
      (line) => line.msg === "event handling failed" && line.event_id === envelope.id,
    );
    expect(failures.map((line) => line.attempt)).toEqual([1, 2]);
  });

  it("ignores a redelivered event and a second request for the same order: one authorization", async () => {
    const customer = await newCustomer(payments);
    const { orderId, envelope } = await request(payments, customer);
    await payments.bus.publish([envelope]);
    await payments.publish(PaymentRequested, orderId, {
      orderId,
      userId: customer.userId,
      amount: USD(2500),
      paymentMethodId: customer.methodId,
    });
    await payments.settle();
    expect(types(payments, orderId)).toEqual(["payments.payment-authorized.v1"]);
    const rows = await payments.host.store.db
      .selectFrom("payments")
      .selectAll()
      .where("order_id", "=", orderId)
      .execute();
    expect(rows).toHaveLength(1);
    expect(provider.callsFor(orderId)).toEqual([`authorize:${orderId}`]);
  });
});

describe("capture, void and refund", () => {
  it("captures on confirmation, once however often it is confirmed", async () => {
    const customer = await newCustomer(payments);
    const { orderId } = await request(payments, customer);
    const confirmed = await confirm(payments, orderId, customer.userId);
    await payments.bus.publish([confirmed]);
    await confirm(payments, orderId, customer.userId);
    await payments.settle();
    const events = eventsOf(payments, orderId);
    expect(events.map((event) => event.type)).toEqual([
      "payments.payment-authorized.v1",
      "payments.payment-captured.v1",
    ]);
    expect(events[1]?.data).toEqual({ orderId, paymentId: events[0]?.data.paymentId, amount: USD(2500) });
    expect(provider.callsFor(orderId)).toEqual([`authorize:${orderId}`, `capture:${orderId}`]);
  });

  it("voids an authorization when the order is cancelled before confirmation", async () => {
    const customer = await newCustomer(payments);
    const { orderId } = await request(payments, customer);
    const cancelled = await cancel(payments, orderId, customer.userId, false);
    await payments.bus.publish([cancelled]);
    await cancel(payments, orderId, customer.userId, false);
    await confirm(payments, orderId, customer.userId);
    await payments.settle();
    const events = eventsOf(payments, orderId);
    expect(events.map((event) => event.type)).toEqual([
      "payments.payment-authorized.v1",
      "payments.payment-voided.v1",
    ]);
    expect(events[1]?.data).toEqual({ orderId, paymentId: events[0]?.data.paymentId });
    expect(provider.callsFor(orderId)).toEqual([`authorize:${orderId}`, `void:${orderId}`]);
  });

  it("refunds a capture when a confirmed order is cancelled, once", async () => {
    const customer = await newCustomer(payments);
    const { orderId } = await request(payments, customer);
    await confirm(payments, orderId, customer.userId);
    const cancelled = await cancel(payments, orderId, customer.userId, true);
    await payments.bus.publish([cancelled]);
    await cancel(payments, orderId, customer.userId, true);
    await payments.settle();
    const events = eventsOf(payments, orderId);
    expect(events.map((event) => event.type)).toEqual([
      "payments.payment-authorized.v1",
      "payments.payment-captured.v1",
      "payments.payment-refunded.v1",
    ]);
    expect(events[2]?.data).toEqual({ orderId, paymentId: events[0]?.data.paymentId, amount: USD(2500) });
    const [row] = await payments.host.store.db
      .selectFrom("payments")
      .selectAll()
      .where("order_id", "=", orderId)
      .execute();
    expect(row).toMatchObject({ status: "refunded", refund_id: expect.stringMatching(/^ref_/) });
    expect(provider.callsFor(orderId)).toEqual([
      `authorize:${orderId}`,
      `capture:${orderId}`,
      `refund:${orderId}`,
    ]);
  });

  it("never charges an order cancelled before its payment was requested", async () => {
    const customer = await newCustomer(payments);
    const orderId = randomUUID();
    await cancel(payments, orderId, customer.userId, false);
    await request(payments, customer, orderId);
    await confirm(payments, orderId, customer.userId);
    await payments.settle();
    expect(eventsOf(payments, orderId)).toEqual([]);
    const rows = await payments.host.store.db
      .selectFrom("payments")
      .selectAll()
      .where("order_id", "=", orderId)
      .execute();
    expect(rows).toEqual([]);
    expect(provider.callsFor(orderId)).toEqual([]);
    const answer = await payments.call("GET", `/api/payments?orderId=${orderId}`, { token: customer.token });
    expect(answer.status).toBe(404);
  });

  it("authorizes nothing for a request that arrives after the checkout deadline; one before it is charged", async () => {
    const customer = await newCustomer(payments);
    const requestBy = (orderId: string, deadlineInMs: number) =>
      payments.publish(PaymentRequested, orderId, {
        orderId,
        userId: customer.userId,
        amount: USD(2500),
        paymentMethodId: customer.methodId,
        deadline: new Date(Date.now() + deadlineInMs).toISOString(),
      });
    const late = randomUUID();
    await requestBy(late, -1000);
    const inTime = randomUUID();
    await requestBy(inTime, 30_000);
    await payments.settle();
    expect(eventsOf(payments, late)).toEqual([]);
    expect(provider.callsFor(late)).toEqual([]);
    expect(types(payments, inTime)).toEqual(["payments.payment-authorized.v1"]);
  });

  it("gives nothing back for a declined payment", async () => {
    const customer = await newCustomer(payments, TEST_CARDS.declined);
    const { orderId } = await request(payments, customer);
    await cancel(payments, orderId, customer.userId, false);
    await payments.settle();
    expect(types(payments, orderId)).toEqual(["payments.payment-declined.v1"]);
  });
});

describe("GET /api/payments?orderId=", () => {
  it("shows the owner and admins the order's payment; anyone else and unknown orders get 404", async () => {
    const customer = await newCustomer(payments);
    const { orderId } = await request(payments, customer);
    const path = `/api/payments?orderId=${orderId}`;

    const owner = await payments.call<{ items: PaymentView[]; nextCursor: string | null }>("GET", path, {
      token: customer.token,
    });
    expect(owner.status).toBe(200);
    expect(owner.body).toEqual({
      items: [
        expect.objectContaining({
          id: expect.any(String),
          orderId,
          userId: customer.userId,
          amount: USD(2500),
          status: "authorized",
          createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        }),
      ],
      nextCursor: null,
    });

    const stranger = await payments.call("GET", path, { token: await payments.token(randomUUID()) });
    expect(stranger.status).toBe(404);
    const admin = await payments.call<{ items: PaymentView[] }>("GET", path, {
      token: await payments.token(randomUUID(), "admin"),
    });
    expect(admin.status).toBe(200);
    expect(admin.body.items).toEqual(owner.body.items);

    expect(
      (await payments.call("GET", `/api/payments?orderId=${randomUUID()}`, { token: customer.token })).status,
    ).toBe(404);
    expect((await payments.call("GET", path)).status).toBe(401);
    expect((await payments.call("GET", "/api/payments", { token: customer.token })).status).toBe(400);
  });
});

describe("provider unavailable on every attempt", () => {
  let flaky: Payments;

  beforeAll(async () => {
    flaky = await startServiceForTest(createPaymentsService({ consumerOptions: { backoffMs: [10, 20] } }), {
      settings: { PAYMENTS_TEST_CARD_TRANSIENT_FAILURES: 10 },
      logLevel: "trace",
    });
  });

  afterAll(async () => {
    await flaky?.close();
  });

  it("declines with provider_unavailable on the bus's last attempt instead of dead-lettering", async () => {
    const customer = await newCustomer(flaky, TEST_CARDS.transient);
    const { orderId, envelope } = await request(flaky, customer);
    expect(eventsOf(flaky, orderId)).toEqual([
      {
        type: "payments.payment-declined.v1",
        data: { orderId, paymentId: expect.any(String), reason: "provider_unavailable" },
      },
    ]);
    expect(await flaky.bus.deadLetters("payments")).toEqual([]);
    const logs = flaky.logLines.map(
      (line) => JSON.parse(line) as { msg: string; event_id?: string; attempt?: number },
    );
    const failed = logs.filter(
      (line) => line.msg === "event handling failed" && line.event_id === envelope.id,
    );
    expect(failed.map((line) => line.attempt)).toEqual([1, 2, 3, 4]);
    const [row] = await flaky.host.store.db
      .selectFrom("payments")
      .selectAll()
      .where("order_id", "=", orderId)
      .execute();
    expect(row).toMatchObject({
      status: "declined",
      decline_reason: "provider_unavailable",
      authorization_id: null,
    });
  });
});
