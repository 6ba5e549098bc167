import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "@blossom/runtime";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { doorShedServer, shedSummary } from "./door-shed.js";

const SERVICE_UNAVAILABLE = "https://blossom.dev/problems/service-unavailable";

describe("doorShedServer", () => {
  let server: Server;
  let base: string;
  let flag: boolean;
  let shed: string[];
  let passed: string[];
  let echoing: boolean;

  beforeEach(async () => {
    flag = true;
    echoing = false;
    shed = [];
    passed = [];
    const factory = doorShedServer({
      overloaded: (service) => service === "inventory" && flag,
      echoed: (method, url) => echoing && method === "POST" && url === "/api/orders",
      onShed: (service) => shed.push(service),
      corsOrigins: ["https://shop.example"],
    });
    server = factory(
      (request, response) => {
        passed.push(`${request.method} ${request.url}`);
        // Read any body, so that a request with one is answered cleanly.
        request.resume();
        request.on("end", () => response.end("passed"));
      },
      { keepAliveTimeout: 1_234 },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("refuses a bodiless request for an overloaded service with a 503 problem, before the handler", async () => {
    const response = await fetch(`${base}/api/inventory/products?page=2`, {
      headers: { "x-request-id": "req-42.abc:1" },
    });
    expect(response.status).toBe(503);
    expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("x-request-id")).toBe("req-42.abc:1");
    const text = await response.text();
    expect(Number(response.headers.get("content-length"))).toBe(Buffer.byteLength(text));
    const body = JSON.parse(text);
    expect(body).toMatchObject({ type: SERVICE_UNAVAILABLE, status: 503, title: expect.any(String) });
    expect(shed).toEqual(["inventory"]);
    expect(passed).toEqual([]);
  });

  it("lets a listed origin's script read the refusal (CORS headers), and no other origin", async () => {
    const listed = await fetch(`${base}/api/inventory/products`, {
      headers: { origin: "https://shop.example" },
    });
    expect(listed.status).toBe(503);
    expect(listed.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    expect(listed.headers.get("vary")).toBe("Origin");
    expect(listed.headers.get("access-control-expose-headers")?.split(",")).toContain("retry-after");
    const other = await fetch(`${base}/api/inventory/products`, {
      headers: { origin: "https://evil.example" },
    });
    expect(other.status).toBe(503);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    expect(shed).toEqual(["inventory", "inventory"]);
  });

  it("gives a refused request a new id when it sent none or an unsafe one", async () => {
    const none = await fetch(`${base}/api/inventory/products`);
    const unsafe = await fetch(`${base}/api/inventory/products`, {
      headers: { "x-request-id": "<script>alert(1)</script>" },
    });
    const ids = [none, unsafe].map((response) => {
      expect(response.status).toBe(503);
      return response.headers.get("x-request-id");
    });
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9._:-]{8,128}$/);
    expect(ids[0]).not.toBe(ids[1]);
    await Promise.all([none.text(), unsafe.text()]);
    expect(shed).toEqual(["inventory", "inventory"]);
  });

  it("answers a refused HEAD without a body", async () => {
    const response = await fetch(`${base}/api/inventory`, { method: "HEAD" });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await response.text()).toBe("");
    expect(shed).toEqual(["inventory"]);
    // The connection still serves the next request.
    flag = false;
    const next = await fetch(`${base}/api/inventory`);
    expect(await next.text()).toBe("passed");
  });

  it("serves several refusals and then passes on the same keep-alive connection", async () => {
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${base}/api/inventory/products/${i}`);
      expect(response.status).toBe(503);
      expect(JSON.parse(await response.text())).toMatchObject({ type: SERVICE_UNAVAILABLE });
    }
    flag = false;
    const response = await fetch(`${base}/api/inventory/products/9`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("passed");
    expect(shed).toHaveLength(3);
  });

  it.each([
    [
      "the service is not overloaded",
      () => {
        flag = false;
        return fetch(`${base}/api/inventory/products`);
      },
    ],
    ["another service's path", () => fetch(`${base}/api/orders`)],
    ["a path no service owns", () => fetch(`${base}/health/live`)],
    ["a prefix that only looks like the service's", () => fetch(`${base}/api/inventoryx/products`)],
    [
      "a POST with a JSON body",
      () =>
        fetch(`${base}/api/inventory/reservations`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ sku: "rose", quantity: 1 }),
        }),
    ],
    [
      "a held request (Prefer: wait)",
      () => fetch(`${base}/api/inventory/products`, { headers: { prefer: "wait=5" } }),
    ],
    ["a preflight (OPTIONS)", () => fetch(`${base}/api/inventory/products`, { method: "OPTIONS" })],
  ])("lets the request through for %s", async (_case, send) => {
    const response = await send();
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("passed");
    expect(passed).toHaveLength(1);
    expect(shed).toEqual([]);
  });

  it("refuses an echoed operation with a small body, reads the body away, and keeps the connection", async () => {
    echoing = true;
    const post = (body: string) =>
      fetch(`${base}/api/orders`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const refused = await post(JSON.stringify({ items: [{ productId: "p-1", quantity: 1 }] }));
    expect(refused.status).toBe(503);
    expect(JSON.parse(await refused.text())).toMatchObject({ type: SERVICE_UNAVAILABLE });
    // A body past 64 KiB is not read away at the door: the request goes through as usual.
    const large = await post(JSON.stringify({ note: "x".repeat(70 * 1024) }));
    expect(large.status).toBe(200);
    // Another operation of the same service, and the same one once the service admits again.
    expect((await fetch(`${base}/api/orders/o-1`)).status).toBe(200);
    echoing = false;
    expect((await post("{}")).status).toBe(200);
    expect(shed).toEqual(["orders"]);
    expect(passed).toEqual(["POST /api/orders", "GET /api/orders/o-1", "POST /api/orders"]);
  });

  it("passes Fastify's server options on to the server it makes", () => {
    expect(server.keepAliveTimeout).toBe(1_234);
  });
});

describe("shedSummary", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  function stubLogger() {
    const info = vi.fn();
    return { info, logger: { info } as unknown as Logger };
  }

  it("logs one line per window with the refusals per service, and nothing for a quiet window", () => {
    const { info, logger } = stubLogger();
    const count = shedSummary(logger, 1_000);
    for (let i = 0; i < 3; i++) count("inventory");
    count("orders");
    vi.advanceTimersByTime(500);
    count("inventory");
    vi.advanceTimersByTime(499);
    expect(info).not.toHaveBeenCalled();

    vi.advanceTimersByTime(1);
    expect(info).toHaveBeenCalledTimes(1);
    expect(info).toHaveBeenLastCalledWith(
      { shed: { inventory: 4, orders: 1 }, window_ms: 1_000 },
      expect.any(String),
    );

    // A quiet window logs nothing.
    vi.advanceTimersByTime(5_000);
    expect(info).toHaveBeenCalledTimes(1);

    // The next refusal opens a new window, counted from zero.
    count("orders");
    count("orders");
    vi.advanceTimersByTime(999);
    expect(info).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(info).toHaveBeenCalledTimes(2);
    expect(info).toHaveBeenLastCalledWith({ shed: { orders: 2 }, window_ms: 1_000 }, expect.any(String));
    expect(vi.getTimerCount()).toBe(0);
  });

  it("keeps one window per summary: two summaries count separately", () => {
    const a = stubLogger();
    const b = stubLogger();
    const countA = shedSummary(a.logger, 200);
    const countB = shedSummary(b.logger, 200);
    countA("users");
    countB("payments");
    countB("payments");
    vi.advanceTimersByTime(200);
    expect(a.info).toHaveBeenCalledExactlyOnceWith(
      { shed: { users: 1 }, window_ms: 200 },
      expect.any(String),
    );
    expect(b.info).toHaveBeenCalledExactlyOnceWith(
      { shed: { payments: 2 }, window_ms: 200 },
      expect.any(String),
    );
  });
});
