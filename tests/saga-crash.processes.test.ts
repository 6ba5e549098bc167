import { callHttp, eventually } from "@blossom/testkit";
import { describe, expect, it } from "vitest";
import { crashRuns } from "./support/crash-runs.js";
import { type Order, type Product, ShopClient } from "./support/shop-client.js";
import { TOPOLOGIES } from "./support/topologies.js";

/**
 * Kills the platform (SIGKILL) in the middle of a checkout — right after a service committed its
 * step and before the bus heard back — restarts it on the same data, and checks that the order
 * still reaches a final state, is charged once, and holds no stock it should not.
 */
const CRASHES = [
  { point: "inventory/inbox.after-commit", step: "stock reserved, reply not yet acknowledged" },
  { point: "payments/inbox.after-commit", step: "payment authorized, reply not yet acknowledged" },
  { point: "orders/outbox.after-publish", step: "a saga event published, not yet marked" },
];

const runs = crashRuns();

describe.each(TOPOLOGIES)("a crash in the middle of a checkout ($name)", (topology) => {
  it.each(CRASHES)(
    "$point ($step): the order still ends confirmed, charged once",
    async ({ point }) => {
      const { env, gateway } = await runs.prepare(topology);

      // Prepare a customer, a card and a product on a clean start, then restart armed.
      const setup = await runs.start(env);
      const ann = await ShopClient.signUp(gateway, "Crash");
      const card = await ann.addCard();
      const catalog = await callHttp<{ items: Product[] }>(gateway, "GET", "/api/inventory/products?limit=1");
      const item = catalog.body.items[0] as Product;
      await runs.stop(setup);

      const armed = await runs.start({ ...env, BLOSSOM_CRASH_POINTS: point });
      // The access token outlives the restart: users' signing key is in its database.
      const placed = await ann.placeOrder([{ productId: item.id, quantity: 1 }], card).catch(() => undefined);
      await runs.expectCrashed(armed);

      const restarted = await runs.start(env);
      const mine = await ann.send<{ items: Order[] }>("GET", "/api/orders");
      expect(mine.status).toBe(200);
      expect(mine.body.items).toHaveLength(1);
      const orderId = placed?.body.id ?? mine.body.items[0]?.id ?? "";
      const settled = await ann.settled(orderId, 20_000);
      expect(settled.status).toBe("confirmed");
      // The capture follows the confirmation (payments consumes OrderConfirmed): wait for it.
      const payments = await eventually(async () => {
        const answer = await ann.send<{ items: Array<{ status: string }> }>(
          "GET",
          `/api/payments?orderId=${orderId}`,
        );
        return answer.body.items.some((payment) => payment.status !== "authorized") ? answer : undefined;
      }, 10_000);
      expect(payments.body.items.map((payment) => payment.status)).toEqual(["captured"]);
      const after = await callHttp<Product>(gateway, "GET", `/api/inventory/products/${item.id}`);
      expect(after.body.available).toBe(item.available - 1);
      await runs.stop(restarted);
    },
    300_000,
  );
});
