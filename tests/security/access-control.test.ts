import { randomUUID } from "node:crypto";
import { callHttp, type HttpAnswer, testSigningKey } from "@blossom/testkit";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADDRESS, type Order, type Product, ShopClient } from "../support/shop-client.js";
import {
  ADMIN_PASSWORD,
  callAs,
  claimsOf,
  SERVICES,
  type SecurityPlatform,
  type ServiceName,
  signToken,
  signUpCustomer,
  startSecurityPlatform,
  tamperPayload,
  unsignedCopy,
} from "./security-platform.js";

/**
 * OWASP API1 (broken object-level authorization), API2 (broken authentication), API3 (mass
 * assignment) and API5 (broken function-level authorization), each through the gateway and
 * straight at the owning service's port: the services check tokens, owners and roles themselves.
 */
let sp: SecurityPlatform;
let ann: ShopClient;
let bob: ShopClient;
let admin: ShopClient;
let annId: string;
let bobId: string;
let annCard: string;
let annOrder: Order;
let lamp: Product;

function expectProblem(answer: HttpAnswer, status: number, slug: string, what: string): void {
  expect(answer.status, `${what}: ${JSON.stringify(answer.body)}`).toBe(status);
  expect(answer.headers.get("content-type"), what).toMatch(/^application\/problem\+json/);
  expect((answer.body as { type?: string }).type, what).toBe(`https://blossom.dev/problems/${slug}`);
}

beforeAll(async () => {
  sp = await startSecurityPlatform();
  ann = await signUpCustomer(sp, "Ann");
  bob = await signUpCustomer(sp, "Bob");
  admin = new ShopClient(
    sp.gateway,
    (await ShopClient.logIn(sp.service("users"), "admin@blossom.local", ADMIN_PASSWORD)).tokens,
  );
  annId = String(claimsOf(ann.tokens.accessToken).sub);
  bobId = String(claimsOf(bob.tokens.accessToken).sub);
  const catalog = await callHttp<{ items: Product[] }>(sp.gateway, "GET", "/api/inventory/products?q=lamp");
  lamp = catalog.body.items[0] as Product;
  annCard = await ann.addCard();
  const placed = await ann.placeOrder([{ productId: lamp.id, quantity: 1 }], annCard);
  expect(placed.status).toBe(202);
  annOrder = await ann.settled(placed.body.id);
  expect(annOrder.status).toBe("confirmed");
}, 120_000);
afterAll(async () => {
  await sp?.destroy();
});

describe("API1: a user reaches only their own objects", () => {
  it("another customer's order is 404 to read and to cancel, and stays as it was", async () => {
    for (const door of sp.doors("orders")) {
      const read = await callAs(bob.tokens.accessToken, door.base, "GET", `/api/orders/${annOrder.id}`);
      expectProblem(read, 404, "not-found", `read ${door.name}`);
      // Answered exactly like an order that does not exist: its existence is not disclosed.
      const missing = await callAs(bob.tokens.accessToken, door.base, "GET", `/api/orders/${randomUUID()}`);
      expect(missing.status).toBe(404);
      const cancel = await callAs(
        bob.tokens.accessToken,
        door.base,
        "POST",
        `/api/orders/${annOrder.id}/cancel`,
      );
      expectProblem(cancel, 404, "not-found", `cancel ${door.name}`);
      const listed = await callAs<{ items: Order[] }>(
        bob.tokens.accessToken,
        door.base,
        "GET",
        "/api/orders",
      );
      expect(listed.status).toBe(200);
      expect(listed.body.items.map((order) => order.id)).not.toContain(annOrder.id);
    }
    expect((await ann.send<Order>("GET", `/api/orders/${annOrder.id}`)).body.status).toBe("confirmed");
  });

  it("another customer's payments are 404, and their saved cards are not listed", async () => {
    for (const door of sp.doors("payments")) {
      const payments = await callAs(
        bob.tokens.accessToken,
        door.base,
        "GET",
        `/api/payments?orderId=${annOrder.id}`,
      );
      expectProblem(payments, 404, "not-found", door.name);
      const own = await callAs(
        ann.tokens.accessToken,
        door.base,
        "GET",
        `/api/payments?orderId=${annOrder.id}`,
      );
      expect(own.status, door.name).toBe(200);
      const methods = await callAs<{ items: Array<{ id: string }> }>(
        bob.tokens.accessToken,
        door.base,
        "GET",
        "/api/payments/methods",
      );
      expect(methods.status).toBe(200);
      expect(methods.body.items.map((method) => method.id)).not.toContain(annCard);
    }
  });

  it("another customer's card cannot pay for an order: the order is declined, the card's owner is not charged", async () => {
    for (const door of sp.doors("orders")) {
      const placed = await callAs<Order>(
        bob.tokens.accessToken,
        door.base,
        "POST",
        "/api/orders",
        { items: [{ productId: lamp.id, quantity: 1 }], paymentMethodId: annCard, shippingAddress: ADDRESS },
        { "idempotency-key": randomUUID() },
      );
      expect(placed.status, door.name).toBe(202);
      expect(await bob.settled(placed.body.id)).toMatchObject({
        status: "cancelled",
        cancellationReason: "payment_declined",
      });
    }
    const annOrders = await ann.send<{ items: Order[] }>("GET", "/api/orders");
    expect(annOrders.body.items.map((order) => order.id)).toEqual([annOrder.id]);
  });

  it("another customer's notifications are refused; each list holds only the caller's own", async () => {
    const annNotifications = await ann.send<{ items: Array<{ id: string }> }>("GET", "/api/notifications");
    expect(annNotifications.body.items.length).toBeGreaterThan(0);
    const annIds = annNotifications.body.items.map((item) => item.id);
    for (const door of sp.doors("notifications")) {
      // Naming another user is an admin-only parameter: 403, whether that user exists or not.
      const named = await callAs(
        bob.tokens.accessToken,
        door.base,
        "GET",
        `/api/notifications?userId=${annId}`,
      );
      expectProblem(named, 403, "forbidden", door.name);
      const own = await callAs<{ items: Array<{ id: string }> }>(
        bob.tokens.accessToken,
        door.base,
        "GET",
        "/api/notifications",
      );
      expect(own.status).toBe(200);
      expect(own.body.items.length).toBeGreaterThan(0);
      expect(own.body.items.map((item) => item.id).filter((id) => annIds.includes(id))).toEqual([]);
    }
  });

  it("a profile is only ever the caller's own: there is no route to read or change someone else's", async () => {
    for (const door of sp.doors("users")) {
      const me = await callAs<{ id: string }>(bob.tokens.accessToken, door.base, "GET", "/api/users/me");
      expect(me.body.id).toBe(bobId);
      expect((await callAs(bob.tokens.accessToken, door.base, "GET", `/api/users/${annId}`)).status).toBe(
        404,
      );
      const renamed = await callAs(bob.tokens.accessToken, door.base, "PATCH", `/api/users/${annId}`, {
        name: "Owned",
      });
      expect(renamed.status).toBe(404);
    }
    expect((await ann.send<{ name: string }>("GET", "/api/users/me")).body.name).toBe("Ann");
  });
});

/** A route of each service that needs a signed-in user. */
const PROTECTED: Record<ServiceName, string> = {
  users: "/api/users/me",
  inventory: "/api/inventory/audit",
  orders: "/api/orders",
  payments: "/api/payments/methods",
  notifications: "/api/notifications",
};

describe("API2: only a genuine, current token of the users service is accepted", () => {
  it("refuses tampered, expired, future-issued, alg none, other-key, wrong issuer or audience and unknown-role tokens with 401", async () => {
    const now = Math.floor(Date.now() / 1000);
    const otherKey = await testSigningKey("mallory");
    const token = ann.tokens.accessToken;
    const forged: Record<string, string> = {
      "role tampered to admin": tamperPayload(token, { role: "admin" }),
      "subject tampered to another user": tamperPayload(token, { sub: bobId }),
      "expiry tampered": tamperPayload(token, { exp: now + 86_400 }),
      "signature stripped": `${token.split(".").slice(0, 2).join(".")}.`,
      "alg none": unsignedCopy(token),
      // Well beyond the 30 s clock tolerance, and signed with the real key.
      expired: await signToken(sp.key, { sub: annId, iat: now - 7200, exp: now - 3600 }),
      // Finding: a future `iat` was accepted (forged, or a clock that cannot be trusted).
      "issued in the future": await signToken(sp.key, { sub: annId, iat: now + 3600, exp: now + 4200 }),
      "another key under the real key id": await signToken(
        otherKey,
        { sub: annId, role: "admin" },
        sp.key.kid,
      ),
      "another key under its own key id": await signToken(otherKey, { sub: annId, role: "admin" }),
      "HS256 keyed with the public key": await new SignJWT({ role: "admin" })
        .setProtectedHeader({ alg: "HS256", kid: sp.key.kid })
        .setSubject(annId)
        .setIssuer("blossom-users")
        .setAudience("blossom")
        .setIssuedAt()
        .setExpirationTime("10m")
        .sign(Buffer.from(String(sp.key.publicJwk.x), "base64url")),
      "another issuer": await signToken(sp.key, { sub: annId, iss: "evil" }),
      "another audience": await signToken(sp.key, { sub: annId, aud: "other-app" }),
      "an unknown role": await signToken(sp.key, { sub: annId, role: "superuser" }),
      "the refresh token": ann.tokens.refreshToken,
      garbage: "not-a-token",
    };
    // The positive control: a token signed with the real key and proper claims is accepted.
    const genuine = await signToken(sp.key, { sub: annId });
    for (const service of SERVICES) {
      const path = service === "inventory" ? "/api/inventory/products" : PROTECTED[service];
      for (const door of sp.doors(service)) {
        expect((await callAs(genuine, door.base, "GET", path)).status, `${service} ${door.name}`).toBe(200);
        for (const [kind, bad] of Object.entries(forged)) {
          const answer = await callAs(bad, door.base, "GET", path);
          const what = `${kind}, ${service} ${door.name}`;
          expectProblem(answer, 401, "unauthorized", what);
          expect(answer.headers.get("www-authenticate"), what).toMatch(
            /^Bearer realm="blossom", error="invalid_/,
          );
        }
      }
    }
  });

  it("a protected route without a token is 401 with a Bearer challenge", async () => {
    for (const service of SERVICES) {
      for (const door of sp.doors(service)) {
        const answer = await callHttp(door.base, "GET", PROTECTED[service]);
        expectProblem(answer, 401, "unauthorized", `${service} ${door.name}`);
        expect(answer.headers.get("www-authenticate")).toMatch(/^Bearer realm="blossom"/);
      }
    }
  });
});

describe("who may call is checked before the input (finding: anonymous invalid body → 400 listing fields)", () => {
  const writes: Array<{
    service: ServiceName;
    method: string;
    path: () => string;
    body: unknown;
    admin?: true;
  }> = [
    { service: "users", method: "PATCH", path: () => "/api/users/me", body: { name: 5 } },
    { service: "notifications", method: "PUT", path: () => "/api/notifications/preferences", body: { x: 1 } },
    { service: "payments", method: "POST", path: () => "/api/payments/methods", body: { cardNumber: 1 } },
    { service: "orders", method: "POST", path: () => "/api/orders", body: { lines: "none" } },
    { service: "inventory", method: "POST", path: () => "/api/inventory/products", body: {}, admin: true },
    {
      service: "inventory",
      method: "POST",
      path: () => `/api/inventory/products/${lamp.id}/stock`,
      body: { delta: "lots" },
      admin: true,
    },
  ];

  it("an anonymous invalid body is 401, and a customer's invalid body on an admin route 403, at every door", async () => {
    for (const route of writes) {
      for (const door of sp.doors(route.service)) {
        const what = `${route.method} ${route.path()} ${door.name}`;
        const anonymous = await callHttp(door.base, route.method, route.path(), { body: route.body });
        expectProblem(anonymous, 401, "unauthorized", `anonymous ${what}`);
        expect(JSON.stringify(anonymous.body), what).not.toMatch(/errors|must have|must be/);
        if (route.admin) {
          const customer = await callAs(
            bob.tokens.accessToken,
            door.base,
            route.method,
            route.path(),
            route.body,
          );
          expectProblem(customer, 403, "forbidden", `customer ${what}`);
        }
      }
    }
  });
});

describe("API5: admin-only routes check the role in the service", () => {
  const adminOnly: Array<{ service: ServiceName; method: string; path: () => string; body?: unknown }> = [
    {
      service: "inventory",
      method: "POST",
      path: () => "/api/inventory/products",
      body: {
        sku: `SEC-${Date.now()}`,
        name: "Free lamp",
        description: "x",
        category: "home",
        price: { amount: 1, currency: "USD" },
        stock: 1,
      },
    },
    {
      service: "inventory",
      method: "PATCH",
      path: () => `/api/inventory/products/${lamp.id}`,
      body: { price: { amount: 1, currency: "USD" } },
    },
    {
      service: "inventory",
      method: "POST",
      path: () => `/api/inventory/products/${lamp.id}/stock`,
      body: { delta: 1000 },
    },
    { service: "orders", method: "GET", path: () => "/api/orders?all=true" },
    ...(["users", "inventory", "orders", "payments"] as const).map((service) => ({
      service,
      method: "GET",
      path: () => `/api/${service}/audit`,
    })),
  ];

  it("a customer's genuine token is 403 on every admin route, at the gateway and at the service", async () => {
    for (const route of adminOnly) {
      for (const door of sp.doors(route.service)) {
        const answer = await callAs(
          bob.tokens.accessToken,
          door.base,
          route.method,
          route.path(),
          route.body,
        );
        expectProblem(answer, 403, "forbidden", `${route.method} ${route.path()} ${door.name}`);
      }
    }
    expect(
      (await callHttp<Product>(sp.gateway, "GET", `/api/inventory/products/${lamp.id}`)).body.price,
    ).toEqual(lamp.price);
  });

  it("an admin's token is accepted there (the routes work; the 403s are about the role)", async () => {
    for (const service of ["users", "inventory", "orders", "payments"] as const) {
      for (const door of sp.doors(service)) {
        const answer = await callAs(admin.tokens.accessToken, door.base, "GET", `/api/${service}/audit`);
        expect(answer.status, `${service} ${door.name}`).toBe(200);
      }
    }
    const all = await admin.send<{ items: Order[] }>("GET", "/api/orders?all=true");
    expect(all.body.items.map((order) => order.id)).toContain(annOrder.id);
  });
});

describe("API3: mass assignment — fields a client must not set are stripped", () => {
  it("role, id and password hash sent at sign-up have no effect: the account is a customer", async () => {
    for (const door of sp.doors("users")) {
      const email = `mallory-${randomUUID()}@example.com`;
      const chosenId = randomUUID();
      const created = await callHttp<Record<string, unknown>>(door.base, "POST", "/api/users", {
        body: {
          email,
          password: "correct horse battery",
          name: "Mallory",
          role: "admin",
          id: chosenId,
          passwordHash: "scrypt$1$1$1$AAAA$AAAA",
          password_hash: "scrypt$1$1$1$AAAA$AAAA",
        },
      });
      expect(created.status, door.name).toBe(201);
      expect(created.body).toMatchObject({ email, name: "Mallory", role: "customer" });
      expect(created.body.id).not.toBe(chosenId);
      expect(Object.keys(created.body).sort()).toEqual(["email", "id", "name", "role"]);
      const mallory = await ShopClient.logIn(sp.gateway, email, "correct horse battery");
      expect(claimsOf(mallory.tokens.accessToken).role).toBe("customer");
      expect((await mallory.send("GET", "/api/users/audit")).status).toBe(403);
    }
  });

  it("a profile update changes the name only, never the role or the email", async () => {
    const before = await bob.send<{ email: string }>("GET", "/api/users/me");
    for (const door of sp.doors("users")) {
      const updated = await callAs(bob.tokens.accessToken, door.base, "PATCH", "/api/users/me", {
        name: "Bobby",
        role: "admin",
        email: "admin@blossom.local",
        id: annId,
      });
      expect(updated.status, door.name).toBe(200);
      expect(updated.body).toEqual({ id: bobId, email: before.body.email, name: "Bobby", role: "customer" });
    }
    // A fresh token (from a refresh) carries the stored role: still a customer.
    const refreshed = await callHttp<{ accessToken: string }>(sp.gateway, "POST", "/api/auth/refresh", {
      body: {
        refreshToken: bob.tokens.refreshToken,
      },
    });
    expect(refreshed.status).toBe(200);
    expect(claimsOf(refreshed.body.accessToken).role).toBe("customer");
  });

  it("an order's owner, status, prices and total come from the token and the catalog, not the body", async () => {
    for (const door of sp.doors("orders")) {
      const placed = await callAs<Order & { userId?: string }>(
        ann.tokens.accessToken,
        door.base,
        "POST",
        "/api/orders",
        {
          items: [{ productId: lamp.id, quantity: 2, unitPrice: { amount: 1, currency: "USD" } }],
          paymentMethodId: annCard,
          shippingAddress: ADDRESS,
          userId: bobId,
          status: "confirmed",
          total: { amount: 1, currency: "USD" },
        },
        { "idempotency-key": randomUUID() },
      );
      expect(placed.status, door.name).toBe(202);
      expect(placed.body.status).toBe("pending");
      expect(placed.body.total).toEqual({ amount: lamp.price.amount * 2, currency: "USD" });
      // Ann's, not Bob's.
      expect((await bob.send("GET", `/api/orders/${placed.body.id}`)).status).toBe(404);
      expect((await ann.settled(placed.body.id)).status).toBe("confirmed");
    }
  });

  it("a saved card's owner, brand and last four digits come from the token and the number", async () => {
    for (const door of sp.doors("payments")) {
      const saved = await callAs<{ id: string; last4: string; brand: string }>(
        ann.tokens.accessToken,
        door.base,
        "POST",
        "/api/payments/methods",
        {
          cardNumber: "4242424242424242",
          expMonth: 12,
          expYear: new Date().getFullYear() + 2,
          cvc: "123",
          userId: bobId,
          last4: "0000",
          brand: "amex",
          token: "tok_stolen",
        },
      );
      expect(saved.status, door.name).toBe(201);
      expect(saved.body).toMatchObject({ last4: "4242", brand: "visa" });
      expect(Object.keys(saved.body).sort()).toEqual(["brand", "expMonth", "expYear", "id", "last4"]);
      const bobs = await bob.send<{ items: Array<{ id: string }> }>("GET", "/api/payments/methods");
      expect(bobs.body.items.map((method) => method.id)).not.toContain(saved.body.id);
    }
  });
});
