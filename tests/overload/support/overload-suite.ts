import { callHttp, type HttpAnswer } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Order, Product } from "../../support/shop-client.js";
import {
  type Buyer,
  checkoutsAtRate,
  listOrderIds,
  type OverloadRun,
  ordersBehindErrors,
  signUpBuyers,
  summarize,
} from "./checkout-overload.js";

/** A platform an overload suite runs against: its gateway, and how to stop it. */
export interface OverloadPlatform {
  gateway: string;
  stop(): Promise<void>;
}

export interface OverloadSuiteOptions {
  /** Starts the platform with these extra variables. */
  start(env: Record<string, string>): Promise<OverloadPlatform>;
  /** Sign-up + login pairs of the burst. */
  burst: number;
  /** Checkouts offered per second, and for how long: far above what the platform confirms. */
  checkoutRate: number;
  checkoutMs: number;
}

/**
 * Backlog limits kept small, so that the overload is shed on a small machine within seconds:
 * the checkouts' admission (8 pending) and the hash queue (2 waiting).
 */
const SHEDDING_ENV = { ORDERS_MAX_PENDING_CHECKOUTS: "8", USERS_PASSWORD_HASH_QUEUE: "2" };

const isProblem = (answer: HttpAnswer) =>
  /^application\/problem\+json/.test(answer.headers.get("content-type") ?? "");

/**
 * Issue 15 on one topology: a burst of sign-up + login pairs, checkouts offered far above what
 * the platform confirms, and bodies over the limit; then the invariants, through the public API
 * only: no lost order (every accepted order settled and is listed), stock conserved (what each
 * product lost is what the confirmed orders bought), one captured payment per confirmed order
 * and none for a cancelled one, and no order behind an answer other than 2xx or 504.
 */
export function overloadSuite(topology: string, options: OverloadSuiteOptions): void {
  describe(`under overload and bursts (${topology})`, () => {
    let platform: OverloadPlatform;
    let gateway = "";

    beforeAll(async () => {
      platform = await options.start(SHEDDING_ENV);
      gateway = platform.gateway;
    }, 240_000);

    afterAll(async () => {
      await platform?.stop();
    }, 60_000);

    it(`a burst of ${options.burst} sign-up + login pairs: only 201/200 or 503 + Retry-After, and every 201 logs in at once afterwards`, async () => {
      const run = `${topology.replace(/\W+/g, "-")}-${Date.now()}`;
      const pairs = await Promise.all(
        Array.from({ length: options.burst }, async (_, index) => {
          const email = `burst-${run}-${index}@example.test`;
          const password = `correct horse ${index}`;
          const signUp = await callHttp(gateway, "POST", "/api/users", {
            body: { email, name: `Burst ${index}`, password },
          });
          const login = await callHttp(gateway, "POST", "/api/auth/login", { body: { email, password } });
          return { email, password, signUp, login };
        }),
      );
      expect(pairs.map((p) => p.signUp.status).filter((s) => s !== 201 && s !== 503)).toEqual([]);
      expect(
        pairs
          .map((p) => [p.signUp.status, p.login.status])
          .filter(([up, login]) => !(login === 200 || login === 503 || (up === 503 && login === 401))),
      ).toEqual([]);
      for (const answer of pairs.flatMap((p) => [p.signUp, p.login]).filter((a) => a.status === 503)) {
        expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect(isProblem(answer)).toBe(true);
      }
      for (const { email, password, signUp } of pairs) {
        const login = await callHttp(gateway, "POST", "/api/auth/login", { body: { email, password } });
        expect(login.status, `${email} (sign-up answered ${signUp.status})`).toBe(
          signUp.status === 201 ? 200 : 401,
        );
      }
    }, 120_000);

    describe(`checkouts offered at ${options.checkoutRate}/s for ${options.checkoutMs / 1000} s`, () => {
      let buyers: Buyer[];
      let products: Product[];
      let before: Map<string, number>;
      let run: OverloadRun;

      beforeAll(async () => {
        buyers = await signUpBuyers(gateway, 6, `overload-${topology.replace(/\W+/g, "")}`);
        const catalog = await callHttp<{ items: Product[] }>(
          gateway,
          "GET",
          "/api/inventory/products?limit=100",
        );
        products = catalog.body.items.filter((product) => product.available >= 50).slice(0, 12);
        expect(products.length).toBeGreaterThan(0);
        before = await availability(gateway, products);
        run = await checkoutsAtRate({
          buyers,
          products,
          ratePerSecond: options.checkoutRate,
          durationMs: options.checkoutMs,
        });
      }, 150_000);

      it("answers 202, or 503 + Retry-After (shed before any write), or 504; sheds the excess and confirms the rest", () => {
        const summary = summarize(run);
        process.stdout.write(`overload (${topology}): ${JSON.stringify(summary)}\n`);
        const statuses = new Set(run.placements.map((p) => p.status));
        expect([...statuses].filter((s) => ![200, 202, 503, 504].includes(s))).toEqual([]);
        expect(summary.shedWithoutRetryAfter).toBe(0);
        for (const p of run.placements.filter((p) => p.status === 503))
          expect(p.problemType, "a 503 is a problem").toMatch(/^https:\/\/blossom\.dev\/problems\//);
        expect(summary.shed, "the excess was shed").toBeGreaterThan(0);
        expect(summary.confirmed, "the platform kept confirming").toBeGreaterThan(0);
        expect(summary.unsettled, "every accepted order settled").toBe(0);
      });

      it("has no order behind an answer other than 2xx or 504 (each buyer's own order list)", async () => {
        expect(await ordersBehindErrors(buyers, run.placements)).toEqual([]);
      });

      it("loses no order, conserves stock, and captures one payment per confirmed order (none for a cancelled one)", async () => {
        // Every order that exists, whatever its placer was told: each buyer's own list.
        const sold = new Map<string, number>();
        let orders = 0;
        for (const buyer of buyers) {
          for (const id of await listOrderIds(buyer.client)) {
            orders++;
            const order = await buyer.client.send<
              Order & { items: Array<{ productId: string; quantity: number }> }
            >("GET", `/api/orders/${id}`);
            expect(order.status).toBe(200);
            expect(["confirmed", "cancelled"], `order ${id} settled`).toContain(order.body.status);
            const payments = await buyer.client.send<{ items: Array<{ status: string }> }>(
              "GET",
              `/api/payments?orderId=${id}`,
            );
            const captured =
              payments.status === 200
                ? payments.body.items.filter((pay) => pay.status === "captured").length
                : 0;
            expect(captured, `captures of ${order.body.status} order ${id}`).toBe(
              order.body.status === "confirmed" ? 1 : 0,
            );
            if (order.body.status === "confirmed")
              for (const item of order.body.items)
                sold.set(item.productId, (sold.get(item.productId) ?? 0) + item.quantity);
          }
        }
        // Every order answered 2xx is among them (ordersBehindErrors checks the lists both ways).
        expect(orders).toBeGreaterThanOrEqual(run.placements.filter((p) => p.orderId !== undefined).length);
        const after = await availability(gateway, products);
        for (const product of products)
          expect(
            (before.get(product.id) ?? 0) - (after.get(product.id) ?? 0),
            `${product.sku}: units gone = units of confirmed orders`,
          ).toBe(sold.get(product.id) ?? 0);
      }, 120_000);
    });

    it("answers a body over the limit 413 problem+json, with or without a token, 2-10 MB, never a reset", async () => {
      const buyer = (await signUpBuyers(gateway, 1, "bodies"))[0] as Buyer;
      for (const [megabytes, token] of [
        [3, true],
        [3, false],
        [10, true],
      ] as const) {
        const response = await fetch(`${gateway}/api/orders`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "idempotency-key": `big-${megabytes}-${token}`,
            ...(token ? buyer.client.auth : {}),
          },
          body: JSON.stringify({ pad: "x".repeat(megabytes * 1024 * 1024) }),
        });
        expect(response.status, `${megabytes} MB, token ${token}`).toBe(413);
        expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
        await response.text();
      }
    }, 60_000);
  });
}

/** Units available per product now. */
async function availability(gateway: string, products: readonly Product[]): Promise<Map<string, number>> {
  const levels = new Map<string, number>();
  for (const product of products) {
    const answer = await callHttp<Product>(gateway, "GET", `/api/inventory/products/${product.id}`);
    if (answer.status !== 200) throw new Error(`product ${product.id}: ${answer.status}`);
    levels.set(product.id, answer.body.available);
  }
  return levels;
}
