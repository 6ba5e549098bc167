import { callHttp, eventually } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "./support/embedded-platform.js";
import { ShopClient } from "./support/shop-client.js";
import { type PreparedTopology, prepareTopology, TOPOLOGIES } from "./support/topologies.js";

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface Product {
  id: string;
  sku: string;
  category: string;
  price: { amount: number; currency: string };
}

describe.each(TOPOLOGIES)("walking skeleton through the gateway ($name)", (topology) => {
  let platform: TestPlatform;
  let prepared: PreparedTopology;
  beforeAll(async () => {
    prepared = await prepareTopology(topology);
    platform = await startTestPlatform(prepared.env, prepared.env.BLOSSOM_DATA_DIR);
  }, 120_000);
  afterAll(async () => {
    await platform?.stop();
    await prepared?.destroy();
  });

  it("is ready, and the gateway reports every service's database and bus", async () => {
    const ready = await callHttp<{
      status: string;
      services: Record<string, { state: string; detail: { checks: object } }>;
    }>(platform.gateway, "GET", "/health/ready");
    expect(ready.status).toBe(200);
    expect(Object.keys(ready.body.services).sort()).toEqual([
      "inventory",
      "notifications",
      "orders",
      "payments",
      "users",
    ]);
    for (const service of Object.values(ready.body.services)) {
      expect(service.state).toBe("ready");
      expect(service.detail.checks).toMatchObject({ database: { state: "up" }, bus: { state: "up" } });
    }
  });

  it("signs up a user, ignores a smuggled role, and the welcome email arrives through outbox → bus → inbox", async () => {
    const email = `ann-${Date.now()}@example.com`;
    const created = await callHttp<{ id: string; role: string; email: string }>(
      platform.gateway,
      "POST",
      "/api/users",
      {
        body: {
          email: email.toUpperCase(),
          password: "correct horse",
          name: "Ann",
          role: "admin",
        },
      },
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email, role: "customer" });
    expect(JSON.stringify(created.body)).not.toMatch(/password|hash/i);
    expect(created.headers.get("x-request-id")).toBeTruthy();

    const ann = await ShopClient.logIn(platform.gateway, email, "correct horse");
    const inbox = await eventually(
      async () => {
        const list = await ann.send<Page<{ template: string; channel: string; status: string }>>(
          "GET",
          "/api/notifications",
        );
        // Recorded in the inbox transaction, then delivered (to the local mailbox) after commit.
        return list.body.items[0]?.status === "sent" ? list.body.items : undefined;
      },
      5000,
      "the welcome notification",
    );
    expect(inbox).toEqual([
      expect.objectContaining({ template: "welcome", channel: "email", status: "sent" }),
    ]);

    const again = await callHttp<{ type: string }>(platform.gateway, "POST", "/api/users", {
      body: {
        email,
        password: "another one",
        name: "Ann 2",
      },
    });
    expect(again.status).toBe(409);
    expect(again.body.type).toBe("https://blossom.dev/problems/email-taken");
  });

  it("answers bad input with 400 problem+json naming the field, never 500", async () => {
    const bad = await callHttp<{ type: string; errors: Array<{ pointer: string }> }>(
      platform.gateway,
      "POST",
      "/api/users",
      {
        body: {
          email: "not-an-email",
          password: "short",
        },
      },
    );
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(bad.body.errors.map((error) => error.pointer)).toEqual(
      expect.arrayContaining(["/email", "/password"]),
    );
    const malformed = await callHttp(platform.gateway, "POST", "/api/users", { body: "{oops" });
    expect(malformed.status).toBe(400);
    const unknown = await callHttp(platform.gateway, "GET", "/api/nowhere");
    expect(unknown.status).toBe(404);
  });

  it("serves the seeded catalog with filters and cursor pagination", async () => {
    const first = await callHttp<Page<Product>>(platform.gateway, "GET", "/api/inventory/products?limit=5");
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(5);
    const seen = new Set(first.body.items.map((product) => product.sku));
    let cursor = first.body.nextCursor;
    while (cursor) {
      const page = await callHttp<Page<Product>>(
        platform.gateway,
        "GET",
        `/api/inventory/products?limit=5&cursor=${cursor}`,
      );
      for (const product of page.body.items) seen.add(product.sku);
      cursor = page.body.nextCursor;
    }
    expect(seen.size).toBeGreaterThanOrEqual(20);
    const desk = await callHttp<Page<Product>>(
      platform.gateway,
      "GET",
      "/api/inventory/products?category=desk&q=pen",
    );
    expect(desk.body.items.map((product) => product.sku)).toEqual(["DSK-002"]);
    const badCursor = await callHttp(platform.gateway, "GET", "/api/inventory/products?cursor=%%%");
    expect(badCursor.status).toBe(400);
    const missing = await callHttp(platform.gateway, "GET", "/api/inventory/products/nope");
    expect(missing.status).toBe(404);
  });
});
