import { testStoreFactories } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InventoryUnderTest, startInventory } from "./testing/start-inventory.js";

// The price list orders reads at every checkout: called here directly on inventory's own port,
// as a request that bypassed the gateway would be. Only orders' service token opens it.
describe.each(testStoreFactories())("internal price list on $adapter", (factory) => {
  let inv: InventoryUnderTest;
  let lamp: string;
  let desk: string;

  beforeAll(async () => {
    inv = await startInventory({ store: factory });
    lamp = await inv.createProduct(5, { price: { amount: 2500, currency: "USD" } });
    desk = await inv.createProduct(1, { price: { amount: 19_900, currency: "USD" } });
  }, 60_000);
  afterAll(async () => {
    await inv?.close();
  });

  const get = async (ids: string, token?: string) => {
    const response = await fetch(`${inv.url}/internal/inventory/prices?ids=${encodeURIComponent(ids)}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return {
      status: response.status,
      challenge: response.headers.get("www-authenticate"),
      type: response.headers.get("content-type"),
      body: (await response.json()) as Record<string, unknown>,
    };
  };

  it("answers orders the current price of each known product, in one call", async () => {
    const answer = await get(`${lamp},${desk},${lamp},no-such-product`, await inv.serviceToken("orders"));
    expect(answer.status).toBe(200);
    const items = answer.body.items as Array<{ id: string }>;
    expect(items.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [
        { id: lamp, price: { amount: 2500, currency: "USD" } },
        { id: desk, price: { amount: 19_900, currency: "USD" } },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
  });

  it("refuses a caller without a token (401 with a challenge) and with a user's token (401)", async () => {
    const anonymous = await get(lamp);
    expect(anonymous.status).toBe(401);
    expect(anonymous.type).toMatch(/^application\/problem\+json/);
    expect(anonymous.challenge).toMatch(/^Bearer realm="blossom"/);
    for (const role of ["customer", "admin"] as const) {
      const user = await get(lamp, await inv.token(`${role}-1`, role));
      expect(user.status, role).toBe(401);
      expect(user.challenge, role).toMatch(/error="invalid_token"/);
    }
  });

  it("refuses another service's token with 403", async () => {
    const payments = await get(lamp, await inv.serviceToken("payments"));
    expect(payments.status).toBe(403);
    expect(payments.body).toMatchObject({ status: 403, detail: expect.stringMatching(/payments/) });
  });

  it("refuses a service token on a user's route, and still serves the public catalog to it", async () => {
    const orders = await inv.serviceToken("orders");
    const product = {
      sku: "X-1",
      name: "X",
      category: "test",
      price: { amount: 1, currency: "USD" },
      stock: 1,
    };
    const create = await inv.call("POST", "/api/inventory/products", { body: product, token: orders });
    expect(create.status).toBe(401);
    expect((await inv.call("GET", `/api/inventory/products/${lamp}`, { token: orders })).status).toBe(200);
  });

  it("refuses a malformed id list with 400 (only for a caller it serves)", async () => {
    const orders = await inv.serviceToken("orders");
    expect((await get(`${lamp},,${desk}`, orders)).status).toBe(400);
    expect((await get(Array.from({ length: 101 }, (_, i) => `p${i}`).join(","), orders)).status).toBe(400);
    expect((await get("", orders)).status).toBe(400);
    expect((await get(`${lamp},,${desk}`)).status).toBe(401);
  });

  it("is in inventory's own OpenAPI document, with the bearer scheme", async () => {
    const doc = (await (await fetch(`${inv.url}/openapi.json`)).json()) as {
      paths: Record<string, { get?: { security?: unknown } }>;
    };
    expect(doc.paths["/internal/inventory/prices"]?.get?.security).toEqual([{ bearerAuth: [] }]);
  });
});
