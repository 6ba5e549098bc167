import { SHED_OPERATION_HEADER } from "@blossom/runtime";
import { testSigningKey } from "@blossom/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { ShedEcho } from "./shed-echo.js";
import { GatewayHarness } from "./test-harness.js";

describe("ShedEcho", () => {
  it("refuses an operation for a window after its service shed it, and only that operation", () => {
    let now = 1_000;
    const echo = new ShedEcho({ windowMs: 50, now: () => now });
    expect(echo.refusing("POST", "/api/orders")).toBe(false);
    echo.shed("POST", "/api/orders?source=app");
    expect(echo.refusing("POST", "/api/orders")).toBe(true);
    expect(echo.refusing("POST", "/api/orders?other=1")).toBe(true);
    expect(echo.refusing("GET", "/api/orders")).toBe(false);
    expect(echo.refusing("POST", "/api/orders/o-1/cancel")).toBe(false);
    now += 49;
    expect(echo.refusing("POST", "/api/orders")).toBe(true);
    now += 1;
    expect(echo.refusing("POST", "/api/orders")).toBe(false);
    // A new shed opens a new window.
    echo.shed("POST", "/api/orders");
    expect(echo.refusing("POST", "/api/orders")).toBe(true);
  });

  it("remembers a bounded number of operations, forgetting the oldest first", () => {
    const echo = new ShedEcho({ windowMs: 1_000, now: () => 0 });
    for (let n = 0; n <= 1024; n++) echo.shed("GET", `/api/inventory/products/p-${n}`);
    expect(echo.refusing("GET", "/api/inventory/products/p-0")).toBe(false);
    expect(echo.refusing("GET", "/api/inventory/products/p-1")).toBe(true);
    expect(echo.refusing("GET", "/api/inventory/products/p-1024")).toBe(true);
  });
});

describe("the gateway echoing a service's shedding", () => {
  const harness = new GatewayHarness();
  afterEach(() => harness.close());

  it("refuses at the door, for a moment, the operation its service just shed; other operations pass", async () => {
    const received: string[] = [];
    let admitting = false;
    const orders = await harness.upstream((app) => {
      app.post("/api/orders", async (request, reply) => {
        received.push(`POST ${JSON.stringify(request.body)}`);
        if (admitting) return reply.code(202).send({ id: "o-1" });
        return reply
          .code(503)
          .header("retry-after", "1")
          .header(SHED_OPERATION_HEADER, "1")
          .type("application/problem+json")
          .send({ type: "https://blossom.dev/problems/checkouts-shed", title: "shed", status: 503 });
      });
      app.get("/api/orders/o-1", async () => {
        received.push("GET o-1");
        return { id: "o-1" };
      });
    });
    const key = await testSigningKey();
    const gateway = await harness.gateway({ orders: [orders] }, { verifier: key.verifier });
    const token = await key.token({ userId: "u-1" });
    const place = () =>
      fetch(`${gateway}/api/orders`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ items: [{ productId: "p-1", quantity: 1 }] }),
      });
    const first = await place();
    expect(first.status).toBe(503);
    expect(first.headers.get(SHED_OPERATION_HEADER)).toBeNull();
    expect(await first.json()).toMatchObject({ type: "https://blossom.dev/problems/checkouts-shed" });
    // Within the window: refused by the gateway itself, the service never sees it.
    admitting = true;
    const echoed = await place();
    expect(echoed.status).toBe(503);
    expect(echoed.headers.get("retry-after")).toBe("1");
    expect(await echoed.json()).toMatchObject({ type: "https://blossom.dev/problems/service-unavailable" });
    const read = await fetch(`${gateway}/api/orders/o-1`, { headers: { authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);
    expect(received).toEqual([`POST {"items":[{"productId":"p-1","quantity":1}]}`, "GET o-1"]);
    // After the window the service decides again.
    await new Promise((done) => setTimeout(done, 80));
    expect((await place()).status).toBe(202);
    expect(received).toHaveLength(3);
  });

  it("does not echo a 503 that does not say it holds for the whole operation", async () => {
    let calls = 0;
    const users = await harness.upstream((app) => {
      app.post("/api/auth/login", async (_request, reply) => {
        calls++;
        if (calls === 1) return reply.code(503).header("retry-after", "1").send({ status: 503 });
        return { ok: true };
      });
    });
    const key = await testSigningKey();
    const gateway = await harness.gateway({ users: [users] }, { verifier: key.verifier });
    const login = () =>
      fetch(`${gateway}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "a@example.test", password: "secret-secret" }),
      });
    expect((await login()).status).toBe(503);
    expect((await login()).status).toBe(200);
    expect(calls).toBe(2);
  });
});
