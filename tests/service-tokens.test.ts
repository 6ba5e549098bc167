import { DEVELOPMENT_SERVICE_SECRET, serviceCredential } from "@blossom/auth";
import { callHttp } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "./support/embedded-platform.js";
import { type Product, ShopClient } from "./support/shop-client.js";

// Zero trust inside: services do not trust the network. A request that bypasses the gateway and
// calls a service's port directly must carry a token the service verifies itself; service-to-
// service calls carry a short-lived service token issued to the calling service.

const SECRET = "service secret of this test platform, not the development one";

describe("service tokens on the whole platform (embedded)", () => {
  let platform: TestPlatform;
  let users: string;
  let inventory: string;
  let customer: ShopClient;
  let lamp: Product;

  const url = (name: string) => {
    const found = platform.urls.get(name);
    if (!found) throw new Error(`${name} did not start`);
    return found;
  };
  const issue = (service: string, secret = SECRET) =>
    callHttp<{ accessToken: string; expiresIn: number }>(users, "POST", "/internal/auth/service-token", {
      body: {
        service,
        credential: serviceCredential(secret, service),
      },
    });
  const prices = (token?: string) =>
    callHttp<{ items: Array<{ id: string; price: { amount: number } }> }>(
      inventory,
      "GET",
      `/internal/inventory/prices?ids=${lamp.id}`,
      { headers: token ? { authorization: `Bearer ${token}` } : {} },
    );

  beforeAll(async () => {
    platform = await startTestPlatform({ BLOSSOM_SERVICE_SECRET: SECRET });
    users = url("users");
    inventory = url("inventory");
    customer = await ShopClient.signUp(platform.gateway, "Zed");
    const page = await callHttp<{ items: Product[] }>(
      platform.gateway,
      "GET",
      "/api/inventory/products?limit=1",
    );
    const first = page.body.items[0];
    if (!first) throw new Error("no seeded product");
    lamp = first;
  }, 120_000);
  afterAll(async () => {
    await platform?.destroy();
  });

  it("refuses a direct call to inventory's internal price list without a token: 401 with a challenge", async () => {
    const answer = await prices();
    expect(answer.status).toBe(401);
    expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(answer.headers.get("www-authenticate")).toMatch(/^Bearer realm="blossom"/);
  });

  it("refuses a user's access token there (401), and another service's token (403)", async () => {
    const user = await prices(customer.tokens.accessToken);
    expect(user.status).toBe(401);
    expect(user.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    const payments = await issue("payments");
    expect(payments.status).toBe(200);
    expect((await prices(payments.body.accessToken)).status).toBe(403);
  });

  it("answers orders' own token, issued by users for the platform's secret", async () => {
    const orders = await issue("orders");
    expect(orders.status).toBe(200);
    expect(orders.body.expiresIn).toBe(300);
    const answer = await prices(orders.body.accessToken);
    expect(answer.status).toBe(200);
    expect(answer.body.items).toEqual([{ id: lamp.id, price: lamp.price }]);
  });

  it("issues nothing for a credential derived from another secret (the development one, here)", async () => {
    const answer = await issue("orders", DEVELOPMENT_SERVICE_SECRET);
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ type: "https://blossom.dev/problems/invalid-service-credential" });
  });

  it("keeps internal routes off the gateway, and service tokens out of it", async () => {
    const gateway = platform.gateway;
    const token = (await issue("orders")).body.accessToken;
    // Not routed: the gateway knows only /api/… (and the key set).
    expect((await callHttp(gateway, "GET", `/internal/inventory/prices?ids=${lamp.id}`)).status).toBe(404);
    const credential = serviceCredential(SECRET, "orders");
    expect(
      (
        await callHttp(gateway, "POST", "/internal/auth/service-token", {
          body: { service: "orders", credential },
        })
      ).status,
    ).toBe(404);
    // A service token is refused at the edge: the gateway verifies users' tokens only.
    const bearer = { authorization: `Bearer ${token}` };
    expect(
      (await callHttp(gateway, "GET", `/internal/inventory/prices?ids=${lamp.id}`, { headers: bearer }))
        .status,
    ).toBe(401);
    // A service token is nobody at the front door: a user's route refuses it.
    const me = await callHttp(gateway, "GET", "/api/users/me", {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(me.status).toBe(401);
  });

  it("prices an order through orders' service token: checkout works, and an unknown product is 422", async () => {
    const card = await customer.addCard();
    const placed = await customer.placeOrder([{ productId: lamp.id, quantity: 1 }], card);
    expect(placed.status, JSON.stringify(placed.body)).toBe(202);
    expect(placed.body.total).toEqual(lamp.price);
    const unknown = await customer.placeOrder([{ productId: "no-such-product", quantity: 1 }], card);
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ type: "https://blossom.dev/problems/unknown-product" });
  });
});
