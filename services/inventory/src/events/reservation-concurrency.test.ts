import { randomUUID } from "node:crypto";
import type { EventEnvelope } from "@blossom/bus";
import { eventually, testStoreFactories } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InventoryUnderTest, startInventory } from "../testing/start-inventory.js";
import { StockRejected, StockReserved } from "./contracts.js";

/**
 * No oversell under concurrency: many orders race for the same units, handled by a consumer with
 * concurrency > 1 (on PostgreSQL by two replicas sharing the database as well).
 */
describe.each(testStoreFactories())("reservation concurrency on $adapter", (factory) => {
  // One service for both tests (each on products of its own): starting it opens a database.
  let harness: InventoryUnderTest;
  beforeAll(async () => {
    harness = await startInventory({ store: factory, replicas: 2, concurrency: 8 });
  }, 60_000);
  afterAll(async () => {
    await harness?.close();
  });

  const outcomes = (harness: InventoryUnderTest, orders: Set<string>) => {
    const byOrder = new Map<string, string>();
    for (const event of harness.published) {
      if (
        orders.has(event.subject) &&
        (event.type === StockReserved.type || event.type === StockRejected.type)
      ) {
        byOrder.set(event.subject, event.type);
      }
    }
    return byOrder;
  };

  it("200 concurrent orders of 1 unit against 50 in stock: exactly 50 reserved, 150 rejected, never below 0", async () => {
    const productId = await harness.createProduct(50);
    const envelopes: EventEnvelope[] = Array.from({ length: 200 }, () =>
      harness.placedEnvelope(`order-${randomUUID()}`, [{ productId, quantity: 1 }]),
    );
    const orders = new Set(envelopes.map((envelope) => envelope.subject));

    const samples: number[] = [];
    let publishing = true;
    const sampler = (async () => {
      while (publishing) {
        samples.push(await harness.available(productId));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await Promise.all(envelopes.map((envelope) => harness.bus.publish([envelope])));
    publishing = false;
    await sampler;

    const byOrder = await eventually(() => {
      const seen = outcomes(harness, orders);
      return seen.size === orders.size ? seen : undefined;
    }, 30_000);
    const types = [...byOrder.values()];
    expect(types.filter((type) => type === StockReserved.type)).toHaveLength(50);
    expect(types.filter((type) => type === StockRejected.type)).toHaveLength(150);
    expect(await harness.available(productId)).toBe(0);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);

    const [host] = harness.hosts;
    if (!host) throw new Error("no host");
    const row = await host.context.db
      .selectFrom("products")
      .select(["stock", "reserved"])
      .where("id", "=", productId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ stock: 50, reserved: 50 });
    const active = await host.context.db
      .selectFrom("reservation_lines")
      .select((eb) => eb.fn.sum<number>("quantity").as("units"))
      .where("product_id", "=", productId)
      .where("held", "=", true)
      .executeTakeFirstOrThrow();
    expect(Number(active.units)).toBe(50);
    expect(await harness.bus.deadLetters("inventory")).toEqual([]);
  }, 120_000);

  it("orders of several lines in any order neither deadlock nor oversell", async () => {
    const problemsBefore = harness.logs().length;
    const x = await harness.createProduct(40);
    const y = await harness.createProduct(60);
    const envelopes = Array.from({ length: 120 }, (_, index) =>
      harness.placedEnvelope(
        `order-${randomUUID()}`,
        index % 2 === 0
          ? [
              { productId: x, quantity: 1 },
              { productId: y, quantity: 1 },
            ]
          : [
              { productId: y, quantity: 1 },
              { productId: x, quantity: 1 },
            ],
      ),
    );
    const orders = new Set(envelopes.map((envelope) => envelope.subject));
    await Promise.all(envelopes.map((envelope) => harness.bus.publish([envelope])));

    const byOrder = await eventually(() => {
      const seen = outcomes(harness, orders);
      return seen.size === orders.size ? seen : undefined;
    }, 30_000);
    expect([...byOrder.values()].filter((type) => type === StockReserved.type)).toHaveLength(40);
    expect(await harness.available(x)).toBe(0);
    expect(await harness.available(y)).toBe(20);
    // Handlers never failed (a deadlock would show as a failed, redelivered event).
    expect(
      harness
        .logs()
        .slice(problemsBefore)
        .filter((line) => line.msg === "event handling failed"),
    ).toEqual([]);
  }, 120_000);
});
