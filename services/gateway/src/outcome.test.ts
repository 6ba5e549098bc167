import { randomUUID } from "node:crypto";
import { freePort, type TestSigningKey, testSigningKey } from "@blossom/testkit";
import type { FastifyInstance } from "fastify";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { GatewayHarness } from "./test-harness.js";

/**
 * What a client is told when the gateway gets no answer: 503 (with Retry-After) only when
 * nothing was done; 504 `outcome-unknown` when a write reached a service (or may have), so that
 * a client never repeats, as "not done", something that was done.
 */

let key: TestSigningKey;
let auth: { authorization: string };
beforeAll(async () => {
  key = await testSigningKey();
  auth = { authorization: `Bearer ${await key.token({ userId: "u1" })}` };
});

const harness = new GatewayHarness();
afterEach(() => harness.close());

const OUTCOME_UNKNOWN = "https://blossom.dev/problems/outcome-unknown";
const GATEWAY_TIMEOUT_MS = 150;

/** A URL on which nothing listens. */
const refusingUrl = async () => `http://127.0.0.1:${await freePort()}`;

/**
 * An orders stand-in that keeps the platform's idempotency contract: it accepts an order at
 * once, answers 202 after `delayMs` (set it past the gateway's timeout to lose the answer), and
 * answers a replay of a key with the original status and body.
 */
function ordersService() {
  const answers = new Map<string, { status: number; body: { id: string; status: string } }>();
  const state = { delayMs: 0 };
  const setup = (app: FastifyInstance) => {
    app.post("/api/orders", async (request, reply) => {
      const idempotencyKey = String(request.headers["idempotency-key"]);
      const earlier = answers.get(idempotencyKey);
      if (earlier) return reply.code(earlier.status).header("idempotent-replayed", "true").send(earlier.body);
      const answer = { status: 202, body: { id: randomUUID(), status: "pending" } };
      answers.set(idempotencyKey, answer);
      await new Promise((resolve) => setTimeout(resolve, state.delayMs).unref());
      return reply.code(answer.status).send(answer.body);
    });
  };
  return { answers, state, setup };
}

const placeOrder = (gateway: string, idempotencyKey: string) =>
  fetch(`${gateway}/api/orders`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json", "idempotency-key": idempotencyKey },
    body: JSON.stringify({ items: [{ productId: "p1", quantity: 1 }] }),
  });

interface Problem {
  type: string;
  status: number;
  detail: string;
  upstream?: string;
}

describe("a write the service took but did not answer in time", () => {
  it("is 504 outcome-unknown even when the gateway's retry was refused; the same key then answers the original 202 and body", async () => {
    const orders = ordersService();
    orders.state.delayMs = 1000;
    const slow = await harness.upstream(orders.setup);
    // The first attempt goes to the slow replica, the gateway's retry to one that refuses connections.
    const gateway = await harness.gateway(
      { orders: [slow, await refusingUrl()] },
      { verifier: key.verifier },
      GATEWAY_TIMEOUT_MS,
    );
    const idempotencyKey = randomUUID();

    const lost = await placeOrder(gateway, idempotencyKey);
    // Not 503: the order was placed. 503 would tell the client nothing was done.
    expect(lost.status).toBe(504);
    expect(lost.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(lost.headers.get("retry-after")).toBe("1");
    const problem = (await lost.json()) as Problem;
    expect(problem).toMatchObject({ type: OUTCOME_UNKNOWN, status: 504, upstream: "orders" });
    expect(problem.detail).toContain("same Idempotency-Key is safe");
    expect(JSON.stringify(problem)).not.toContain("127.0.0.1");
    const placed = orders.answers.get(idempotencyKey);
    expect(placed).toBeDefined();

    // The client retries as the problem says: the original answer, not a new order.
    orders.state.delayMs = 0;
    const retried = await placeOrder(gateway, idempotencyKey);
    expect(retried.status).toBe(202);
    expect(retried.headers.get("idempotent-replayed")).toBe("true");
    expect(await retried.json()).toEqual(placed?.body);
    expect(orders.answers.size).toBe(1);
  });

  it("is 504 outcome-unknown, not the 503 of the replica the gateway retried on", async () => {
    const orders = ordersService();
    orders.state.delayMs = 1000;
    const slow = await harness.upstream(orders.setup);
    const shedding = await harness.upstream((app) => {
      app.post("/api/orders", async (_request, reply) =>
        reply.code(503).header("retry-after", "1").type("application/problem+json").send({
          type: "https://blossom.dev/problems/service-unavailable",
          status: 503,
          title: "Overloaded",
        }),
      );
    });
    const gateway = await harness.gateway(
      { orders: [slow, shedding] },
      { verifier: key.verifier },
      GATEWAY_TIMEOUT_MS,
    );

    const lost = await placeOrder(gateway, randomUUID());
    expect(lost.status).toBe(504);
    expect(((await lost.json()) as Problem).type).toBe(OUTCOME_UNKNOWN);
    expect(orders.answers.size).toBe(1);
  });

  it("is 504 outcome-unknown for a POST without a key too, saying a blind retry is not safe", async () => {
    const users = await harness.upstream((app) => {
      app.post("/api/users", () => new Promise(() => {}));
    });
    const gateway = await harness.gateway({ users: [users] }, { verifier: key.verifier }, GATEWAY_TIMEOUT_MS);
    const answer = await fetch(`${gateway}/api/users`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "ann@example.com" }),
    });
    expect(answer.status).toBe(504);
    const problem = (await answer.json()) as Problem;
    expect(problem.type).toBe(OUTCOME_UNKNOWN);
    expect(problem.detail).toContain("Check whether it took effect before repeating it");
  });

  it("is 504 outcome-unknown when the service drops the connection after the request reached it", async () => {
    let received = 0;
    const payments = await harness.upstream((app) => {
      app.post("/api/payments/methods", async (request) => {
        received++;
        request.raw.socket.destroy();
        return new Promise(() => {});
      });
    });
    const gateway = await harness.gateway({ payments: [payments] }, { verifier: key.verifier });
    const answer = await fetch(`${gateway}/api/payments/methods`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", "idempotency-key": randomUUID() },
      body: "{}",
    });
    expect(received).toBeGreaterThan(0);
    expect(answer.status).toBe(504);
    expect(((await answer.json()) as Problem).type).toBe(OUTCOME_UNKNOWN);
  });
});

describe("a write nothing was done with", () => {
  it("is 503 with Retry-After when every replica refuses the connection", async () => {
    const gateway = await harness.gateway(
      { orders: [await refusingUrl(), await refusingUrl()] },
      { verifier: key.verifier },
      GATEWAY_TIMEOUT_MS,
    );
    const refused = await placeOrder(gateway, randomUUID());
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(((await refused.json()) as Problem).type).toBe("https://blossom.dev/problems/service-unavailable");
  });
});
