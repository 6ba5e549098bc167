import { randomUUID } from "node:crypto";
import { callHttp } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "./support/embedded-platform.js";
import { ADDRESS, type Product, ShopClient } from "./support/shop-client.js";

/**
 * Every error answer of the orders API, through the gateway: each is problem+json with a stable
 * type, and no malformed input ever gets a 500.
 */
let platform: TestPlatform;
let ann: ShopClient;
let product: Product;
let card: string;

const ADMIN_PASSWORD = "admin password of the orders errors suite";

beforeAll(async () => {
  platform = await startTestPlatform({ BLOSSOM_ADMIN_PASSWORD: ADMIN_PASSWORD });
  ann = await ShopClient.signUp(platform.gateway, "Errors");
  card = await ann.addCard();
  const catalog = await callHttp<{ items: Product[] }>(
    platform.gateway,
    "GET",
    "/api/inventory/products?limit=1",
  );
  product = catalog.body.items[0] as Product;
}, 120_000);
afterAll(async () => {
  await platform?.destroy();
});

function expectProblem(
  answer: { status: number; headers: Headers; body: unknown },
  status: number,
  slug?: string,
) {
  expect(answer.status).toBe(status);
  expect(answer.headers.get("content-type")).toMatch(/application\/problem\+json/);
  if (slug) expect((answer.body as { type: string }).type).toBe(`https://blossom.dev/problems/${slug}`);
}

describe("orders API error answers", () => {
  it("401 with WWW-Authenticate on every route without a token, and with a forged one", async () => {
    const routes: Array<[string, string, unknown?]> = [
      ["POST", "/api/orders", {}],
      ["GET", "/api/orders"],
      ["GET", `/api/orders/${randomUUID()}`],
      ["POST", `/api/orders/${randomUUID()}/cancel`],
    ];
    for (const [method, path, body] of routes) {
      const anonymous = await callHttp(platform.gateway, method, path, { body });
      expectProblem(anonymous, 401, "unauthorized");
      const forged = await callHttp(platform.gateway, method, path, {
        body,
        headers: { authorization: "Bearer not.a.jwt" },
      });
      expectProblem(forged, 401, "unauthorized");
      expect(forged.headers.get("www-authenticate")).toMatch(/^Bearer /);
    }
  });

  it("400 for malformed bodies, lines and quantities out of range, and a missing Idempotency-Key", async () => {
    const base = {
      items: [{ productId: product.id, quantity: 1 }],
      paymentMethodId: card,
      shippingAddress: ADDRESS,
    };
    const bad = [
      "{not json",
      {},
      { ...base, items: [] },
      { ...base, items: Array.from({ length: 51 }, () => ({ productId: product.id, quantity: 1 })) },
      { ...base, items: [{ productId: product.id, quantity: 0 }] },
      { ...base, items: [{ productId: product.id, quantity: 101 }] },
      { ...base, items: [{ productId: product.id, quantity: 1.5 }] },
      { ...base, shippingAddress: { ...ADDRESS, country: "USA" } },
      { ...base, paymentMethodId: "" },
    ];
    for (const body of bad) {
      const answer = await ann.send("POST", "/api/orders", body, { "idempotency-key": randomUUID() });
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(400);
    }
    expectProblem(await ann.send("POST", "/api/orders", base), 400, "idempotency-key-required");
  });

  it("422 for an unknown product and for an Idempotency-Key reused with another body", async () => {
    const unknown = await ann.placeOrder([{ productId: "no-such-product", quantity: 1 }], card);
    expectProblem(unknown, 422, "unknown-product");
    const key = randomUUID();
    expect((await ann.placeOrder([{ productId: product.id, quantity: 1 }], card, key)).status).toBe(202);
    expectProblem(
      await ann.placeOrder([{ productId: product.id, quantity: 2 }], card, key),
      422,
      "idempotency-key-reused",
    );
  });

  it("422 for an order whose total the platform cannot store (finding: a 500 past 2^31 - 1 cents)", async () => {
    const admin = await ShopClient.logIn(platform.gateway, "admin@blossom.local", ADMIN_PASSWORD);
    const created = await admin.send<Product>(
      "POST",
      "/api/inventory/products",
      {
        sku: `DEAR-${randomUUID().slice(0, 8)}`,
        name: "A very dear lamp",
        description: "priced at the catalog's maximum",
        category: "home",
        price: { amount: 100_000_000, currency: "USD" },
        stock: 100,
      },
      { "idempotency-key": randomUUID() },
    );
    expect(created.status).toBe(201);
    const tooDear = await ann.placeOrder([{ productId: created.body.id, quantity: 22 }], card);
    expectProblem(tooDear, 422, "order-total-too-large");
    // Nothing was taken: the stock is whole, and 21 of them (2.1e9 cents) is still an order.
    expect(
      (await callHttp<Product>(platform.gateway, "GET", `/api/inventory/products/${created.body.id}`)).body,
    ).toMatchObject({ available: 100 });
    expect((await ann.placeOrder([{ productId: created.body.id, quantity: 21 }], card)).status).toBe(202);
  });

  it("404 for an unknown order, to read or to cancel; 400 for a bad cursor or limit; 403 for all=true as a customer", async () => {
    expectProblem(await ann.send("GET", `/api/orders/${randomUUID()}`), 404, "not-found");
    expectProblem(await ann.send("POST", `/api/orders/${randomUUID()}/cancel`), 404, "not-found");
    expectProblem(await ann.send("GET", "/api/orders?cursor=%25%25"), 400);
    expectProblem(await ann.send("GET", "/api/orders?limit=0"), 400);
    expectProblem(await ann.send("GET", "/api/orders?limit=101"), 400);
    expectProblem(await ann.send("GET", "/api/orders?all=true"), 403, "forbidden");
  });

  it("lists only the caller's orders, newest first, with a working cursor", async () => {
    const bea = await ShopClient.signUp(platform.gateway, "Pager");
    const beaCard = await bea.addCard();
    const ids: string[] = [];
    for (let n = 0; n < 3; n++)
      ids.push((await bea.placeOrder([{ productId: product.id, quantity: 1 }], beaCard)).body.id);
    const first = await bea.send<{ items: Array<{ id: string }>; nextCursor: string | null }>(
      "GET",
      "/api/orders?limit=2",
    );
    expect(first.body.items.map((order) => order.id)).toEqual([ids[2], ids[1]]);
    const second = await bea.send<{ items: Array<{ id: string }>; nextCursor: string | null }>(
      "GET",
      `/api/orders?limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items.map((order) => order.id)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeNull();
  });
});
