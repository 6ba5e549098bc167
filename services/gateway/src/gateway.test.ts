import { type TestSigningKey, testSigningKey } from "@blossom/testkit";
import type { FastifyInstance } from "fastify";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { routeFor } from "./routing-table.js";
import { GatewayHarness } from "./test-harness.js";

let key: TestSigningKey;
beforeAll(async () => {
  key = await testSigningKey();
});

const harness = new GatewayHarness();
afterEach(() => harness.close());

const upstream = (setup: (app: FastifyInstance) => void) => harness.upstream(setup);
const gatewayFor = (instances: Record<string, string[]>, timeoutMs = 2000) =>
  harness.gateway(instances, { verifier: key.verifier }, timeoutMs);

describe("routing table", () => {
  it("sends each public prefix to its owner and nothing else anywhere", () => {
    expect(routeFor("/api/users")).toBe("users");
    expect(routeFor("/api/auth/login")).toBe("users");
    expect(routeFor("/.well-known/jwks.json")).toBe("users");
    expect(routeFor("/api/inventory/products?q=pen")).toBe("inventory");
    expect(routeFor("/api/orders/42/cancel")).toBe("orders");
    expect(routeFor("/api/payments?orderId=1")).toBe("payments");
    expect(routeFor("/api/notifications")).toBe("notifications");
    expect(routeFor("/api/usersx")).toBeUndefined();
    expect(routeFor("/admin")).toBeUndefined();
  });
});

describe("gateway proxy", () => {
  it("forwards method, path, query, body and end-to-end headers; returns the service's answer as is", async () => {
    const inventory = await upstream((app) => {
      app.post("/api/inventory/products", async (request, reply) =>
        reply
          .code(201)
          .header("location", "/api/inventory/products/p1")
          .header("x-internal", "secret")
          .send({ body: request.body, query: request.query, headers: request.headers }),
      );
    });
    const gateway = await gatewayFor({ inventory: [inventory] });
    const token = await key.token({ userId: "u1", role: "admin" });
    const response = await fetch(`${gateway}/api/inventory/products?debug=1`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${token}`,
        "idempotency-key": "key-1",
        cookie: "session=1",
        "x-request-id": "req-42",
      },
      body: JSON.stringify({ sku: "A" }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("location")).toBe("/api/inventory/products/p1");
    expect(response.headers.get("x-internal")).toBeNull();
    expect(response.headers.get("x-request-id")).toBe("req-42");
    const seen = (await response.json()) as {
      body: unknown;
      query: unknown;
      headers: Record<string, string>;
    };
    expect(seen.body).toEqual({ sku: "A" });
    expect(seen.query).toEqual({ debug: "1" });
    expect(seen.headers).toMatchObject({
      authorization: `Bearer ${token}`,
      "idempotency-key": "key-1",
      "x-request-id": "req-42",
    });
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1");
  });

  it("passes on the answer headers the document names (a replay, a honoured wait), ids and rate limits its own", async () => {
    const payments = await upstream((app) => {
      app.post("/api/payments/methods", async (_request, reply) =>
        reply
          .code(201)
          .header("idempotent-replayed", "true")
          .header("x-request-id", "the-service-own-id")
          .send({ id: "pm1" }),
      );
    });
    const orders = await upstream((app) => {
      app.get("/api/orders/:id", async (_request, reply) =>
        reply.header("preference-applied", "wait=5").send({ id: "o1" }),
      );
    });
    const gateway = await gatewayFor({ payments: [payments], orders: [orders] });
    const auth = { authorization: `Bearer ${await key.token({ userId: "u1" })}` };
    const replayed = await fetch(`${gateway}/api/payments/methods`, {
      method: "POST",
      headers: {
        ...auth,
        "content-type": "application/json",
        "idempotency-key": "k1",
        "x-request-id": "r-1",
      },
      body: "{}",
    });
    expect(replayed.status).toBe(201);
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    // The ids are the gateway's (the same ones it sent on), never a service's own.
    expect(replayed.headers.get("x-request-id")).toBe("r-1");
    expect(replayed.headers.get("x-correlation-id")).toBe("r-1");
    expect(replayed.headers.get("ratelimit-limit")).toMatch(/^\d+$/);
    const waited = await fetch(`${gateway}/api/orders/o1`, { headers: { ...auth, prefer: "wait=5" } });
    expect(waited.headers.get("preference-applied")).toBe("wait=5");
  });

  it("passes a service's problem through unchanged", async () => {
    const users = await upstream((app) => {
      app.post("/api/users", async (_request, reply) =>
        reply.code(409).type("application/problem+json").send({
          type: "https://blossom.dev/problems/email-taken",
          status: 409,
          title: "Email already registered",
        }),
      );
    });
    const gateway = await gatewayFor({ users: [users] });
    const response = await fetch(`${gateway}/api/users`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(409);
    expect(response.headers.get("content-type")).toMatch(/problem\+json/);
    expect(await response.json()).toMatchObject({ type: "https://blossom.dev/problems/email-taken" });
  });

  it("answers 503 problem+json with Retry-After naming the service, not its address, when it is down", async () => {
    const gateway = await gatewayFor({ orders: ["http://127.0.0.1:1"] });
    const response = await fetch(`${gateway}/api/orders/1`, {
      headers: { authorization: `Bearer ${await key.token({ userId: "u1" })}` },
    });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    const body = (await response.json()) as { type: string; detail: string };
    expect(body.type).toBe("https://blossom.dev/problems/service-unavailable");
    expect(body.detail).toContain("orders");
    expect(JSON.stringify(body)).not.toContain("127.0.0.1");
  });

  it("answers 504 when the service does not answer in time, and stays fast for other services", async () => {
    const slow = await upstream((app) => {
      app.get("/api/payments", () => new Promise(() => {}));
    });
    const fast = await upstream((app) => {
      app.get("/api/inventory/products", async () => ({ items: [], nextCursor: null }));
    });
    const gateway = await gatewayFor({ payments: [slow], inventory: [fast] }, 200);
    const order: string[] = [];
    const hanging = fetch(`${gateway}/api/payments?orderId=1`, {
      headers: { authorization: `Bearer ${await key.token({ userId: "u1" })}` },
    }).then((answer) => {
      order.push("payments");
      return answer;
    });
    const other = await fetch(`${gateway}/api/inventory/products`);
    order.push("inventory");
    expect(other.status).toBe(200);
    const timedOut = await hanging;
    // The healthy service answered while the hanging one was still waiting for its timeout.
    expect(order).toEqual(["inventory", "payments"]);

    expect(timedOut.status).toBe(504);
    expect(((await timedOut.json()) as { type: string }).type).toBe(
      "https://blossom.dev/problems/gateway-timeout",
    );
  });

  it("balances across instances and routes around a dead one", async () => {
    const hits: string[] = [];
    const a = await upstream((app) => {
      app.get("/api/inventory/products", async () => {
        hits.push("a");
        return { from: "a" };
      });
    });
    const b = await upstream((app) => {
      app.get("/api/inventory/products", async () => {
        hits.push("b");
        return { from: "b" };
      });
    });
    const gateway = await gatewayFor({ inventory: [a, b, "http://127.0.0.1:1"] });
    const statuses = await Promise.all(
      Array.from({ length: 12 }, () => fetch(`${gateway}/api/inventory/products`).then((r) => r.status)),
    );
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(hits.filter((hit) => hit === "a").length).toBeGreaterThan(0);
    expect(hits.filter((hit) => hit === "b").length).toBeGreaterThan(0);
  });

  it("answers 404 problem for a path no service owns, and reports platform readiness per service", async () => {
    const users = await upstream((app) => {
      app.get("/health/ready", async () => ({ status: "ready" }));
    });
    const gateway = await gatewayFor({ users: [users], inventory: ["http://127.0.0.1:1"] });
    const missing = await fetch(`${gateway}/admin/secrets`);
    expect(missing.status).toBe(404);
    const ready = await fetch(`${gateway}/health/ready`);
    expect(ready.status).toBe(503);
    const report = (await ready.json()) as { services: Record<string, { state: string }> };
    expect(report.services.users?.state).toBe("ready");
    expect(report.services.inventory?.state).toBe("not-ready");
    // The replica's own readiness (its Kubernetes probe) does not depend on the services behind it.
    const own = await fetch(`${gateway}/health/ready?scope=gateway`);
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ service: "gateway", status: "ready" });
  });
});
