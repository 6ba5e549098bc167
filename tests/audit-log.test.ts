import { callHttp, eventually } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "./support/embedded-platform.js";
import { type Product, ShopClient } from "./support/shop-client.js";

/**
 * The audit log of each service, through the gateway: what a security review needs to see
 * (sign-ups, logins, admin catalog and stock changes, cancellations, refunds), with actor,
 * action, target, time and request id — and only admins may read it.
 */
const ADMIN_PASSWORD = "audit admin password";
interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  at: string;
  requestId: string | null;
  details: unknown;
}

let platform: TestPlatform;
let admin: ShopClient;
beforeAll(async () => {
  platform = await startTestPlatform({ BLOSSOM_ADMIN_PASSWORD: ADMIN_PASSWORD });
  admin = await ShopClient.logIn(platform.gateway, "admin@blossom.local", ADMIN_PASSWORD);
}, 120_000);
afterAll(async () => {
  await platform?.destroy();
});

async function audit(service: string, action: string): Promise<AuditEntry[]> {
  const page = await admin.send<{ items: AuditEntry[] }>(
    "GET",
    `/api/${service}/audit?action=${action}&limit=100`,
  );
  expect(page.status).toBe(200);
  return page.body.items;
}

describe("audit log", () => {
  it("records sign-ups and logins, failed ones included, with the request id", async () => {
    const ann = await ShopClient.signUp(platform.gateway, "Audited");
    const failed = await callHttp(platform.gateway, "POST", "/api/auth/login", {
      body: { email: ann.email, password: "wrong password" },
      headers: { "x-request-id": "req-audit-1" },
    });
    expect(failed.status).toBe(401);
    const signups = await audit("users", "user.signed-up");
    expect(signups.some((entry) => JSON.stringify(entry.details).includes(ann.email))).toBe(true);
    const failures = await audit("users", "auth.login-failed");
    expect(failures).toContainEqual(expect.objectContaining({ target: ann.email, requestId: "req-audit-1" }));
    const successes = await audit("users", "auth.login-succeeded");
    expect(successes.length).toBeGreaterThan(0);
    expect(JSON.stringify([...signups, ...failures, ...successes])).not.toMatch(
      /wrong password|correct horse/,
    );
  });

  it("records admin catalog and stock changes, cancellations and refunds", async () => {
    const created = await admin.send<Product>("POST", "/api/inventory/products", {
      sku: `AUDIT-${Date.now()}`,
      name: "Audited Teapot",
      description: "",
      category: "kitchen",
      price: { amount: 1000, currency: "USD" },
      stock: 5,
    });
    expect(created.status).toBe(201);
    expect(
      (await admin.send("POST", `/api/inventory/products/${created.body.id}/stock`, { delta: 3 })).status,
    ).toBe(200);
    const productChanges = (await audit("inventory", "product.created")).filter(
      (entry) => entry.target === created.body.id,
    );
    expect(productChanges).toHaveLength(1);
    expect(
      (await audit("inventory", "stock.adjusted")).some((entry) => entry.target === created.body.id),
    ).toBe(true);

    const buyer = await ShopClient.signUp(platform.gateway, "Refund");
    const card = await buyer.addCard();
    const placed = await buyer.placeOrder([{ productId: created.body.id, quantity: 1 }], card);
    expect((await buyer.settled(placed.body.id)).status).toBe("confirmed");
    expect((await buyer.send("POST", `/api/orders/${placed.body.id}/cancel`)).status).toBe(200);
    const cancellations = await audit("orders", "order.cancelled");
    expect(cancellations).toContainEqual(expect.objectContaining({ target: placed.body.id }));
    await eventually(
      async () => ((await audit("payments", "payment.refunded")).length > 0 ? true : undefined),
      5000,
      "the refund in the payments audit log",
    );
  });

  it("is for admins only: 401 anonymous, 403 for a customer", async () => {
    const customer = await ShopClient.signUp(platform.gateway, "Nosy");
    for (const service of ["users", "inventory", "orders", "payments"]) {
      expect((await callHttp(platform.gateway, "GET", `/api/${service}/audit`)).status).toBe(401);
      expect((await customer.send("GET", `/api/${service}/audit`)).status).toBe(403);
    }
  });
});
