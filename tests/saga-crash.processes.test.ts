import {
  type BlossomProcess,
  callHttp,
  deathOf,
  eventually,
  freePort,
  killAll,
  spawnBlossom,
  testEnv,
  waitForReady,
} from "@blossom/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { type Order, type Product, ShopClient } from "./support/shop-client.js";
import { type PreparedTopology, prepareTopology, TOPOLOGIES } from "./support/topologies.js";

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

const running: BlossomProcess[] = [];
const prepared: PreparedTopology[] = [];
afterEach(async () => {
  await killAll(running);
  for (const topology of prepared.splice(0)) await topology.destroy();
});

describe.each(TOPOLOGIES)("a crash in the middle of a checkout ($name)", (topology) => {
  it.each(CRASHES)(
    "$point ($step): the order still ends confirmed, charged once",
    async ({ point }) => {
      const run = await prepareTopology(topology);
      prepared.push(run);
      const port = await freePort();
      const gateway = `http://127.0.0.1:${port}`;
      const env = {
        ...run.env,
        ...testEnv(port),
      };

      // Prepare a customer, a card and a product on a clean start, then restart armed.
      const setup = spawnBlossom(["start"], env);
      running.push(setup);
      await waitForReady(setup);
      const ann = await ShopClient.signUp(gateway, "Crash");
      const card = await ann.addCard();
      const catalog = await callHttp<{ items: Product[] }>(gateway, "GET", "/api/inventory/products?limit=1");
      const item = catalog.body.items[0] as Product;
      setup.child.kill("SIGTERM");
      expect(await setup.exited).toEqual({ code: 0, signal: null });

      const armed = spawnBlossom(["start"], { ...env, BLOSSOM_CRASH_POINTS: point });
      running.push(armed);
      await waitForReady(armed);
      // The access token outlives the restart: users' signing key is in its database.
      const placed = await ann.placeOrder([{ productId: item.id, quantity: 1 }], card).catch(() => undefined);
      const death = await deathOf(armed);
      expect(death, `the crash point was never reached:\n${armed.output()}`).toEqual({
        code: null,
        signal: "SIGKILL",
      });

      const restarted = spawnBlossom(["start"], env);
      running.push(restarted);
      await waitForReady(restarted);
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
      restarted.child.kill("SIGTERM");
      expect(await restarted.exited).toEqual({ code: 0, signal: null });
    },
    300_000,
  );
});
