/**
 * Test support (not part of the build): inventory started by the test kit (`startServiceForTest`),
 * with the orders events and products its suites drive it with, so they need neither the users
 * nor the orders service.
 */
import { randomUUID } from "node:crypto";
import { createEnvelope, type EventEnvelope } from "@blossom/bus";
import { OrderCancelled, OrderConfirmed, OrderPlaced } from "@blossom/orders-contracts";
import {
  eventually,
  type ServiceUnderTest,
  startServiceForTest,
  type TestStoreFactory,
} from "@blossom/testkit";
import { DEFAULT_HOLD_SECONDS } from "../domain/hold.js";
import { StockRejected, StockReserved } from "../events/contracts.js";
import { inventoryService } from "../service.js";
import type { InventorySettingsSchema } from "../settings.js";
import type { InventoryTables } from "../store/tables.js";

export interface Line {
  productId: string;
  quantity: number;
}

export interface InventoryUnderTest extends ServiceUnderTest<InventoryTables, InventorySettingsSchema> {
  /** As admin: creates a product with a unique SKU and returns its id. */
  createProduct(stock: number, overrides?: Record<string, unknown>): Promise<string>;
  available(productId: string): Promise<number>;
  /** Publishes an orders event and resolves once inventory handled (committed) it. */
  placeOrder(orderId: string, items: Line[], eventId?: string): Promise<void>;
  confirmOrder(orderId: string, items: Line[], eventId?: string): Promise<void>;
  cancelOrder(orderId: string, items: Line[], wasConfirmed: boolean, eventId?: string): Promise<void>;
  /** An orders.order-placed.v1 envelope, to publish on `bus` (many at once). */
  placedEnvelope(orderId: string, items: Line[], eventId?: string): EventEnvelope;
  /** Waits for inventory's outcome event (reserved or rejected) for the order. */
  outcome(orderId: string): Promise<EventEnvelope>;
}

const money = (amount: number) => ({ amount, currency: "USD" as const });
const orderLines = (items: Line[]) => items.map((item) => ({ ...item, unitPrice: money(1000) }));

/** An orders event as orders publishes it (every field of orders' contracts). */
function ordersEnvelope(
  type: string,
  orderId: string,
  data: Record<string, unknown>,
  eventId?: string,
): EventEnvelope {
  return createEnvelope("orders", {
    type,
    subject: orderId,
    data: { orderId, userId: "user-1", ...data },
    ...(eventId ? { id: eventId } : {}),
  });
}

export async function startInventory(options: {
  store: TestStoreFactory;
  holdSeconds?: number;
  /** Hosts sharing one database and one consumer name (PostgreSQL only: PGlite has one process). */
  replicas?: number;
  concurrency?: number;
}): Promise<InventoryUnderTest> {
  const definition =
    options.concurrency === undefined
      ? inventoryService
      : { ...inventoryService, consumerOptions: { concurrency: options.concurrency } };
  const inventory = await startServiceForTest(definition, {
    store: options.store,
    replicas: options.replicas,
    logLevel: "warn",
    relayPollIntervalMs: 50,
    settings: { INVENTORY_RESERVATION_HOLD_SECONDS: options.holdSeconds ?? DEFAULT_HOLD_SECONDS },
  });
  const adminToken = await inventory.token("admin-1", "admin");
  const publish = (envelope: EventEnvelope) => inventory.bus.publish([envelope]);
  const placedEnvelope = (orderId: string, items: Line[], eventId?: string) =>
    ordersEnvelope(
      OrderPlaced.type,
      orderId,
      { items: orderLines(items), total: money(1000), paymentMethodId: "pm-1" },
      eventId,
    );

  return Object.assign(inventory, {
    async createProduct(stock: number, overrides: Record<string, unknown> = {}) {
      const sku = `T-${randomUUID().slice(0, 8)}`;
      const answer = await inventory.call<{ id: string }>("POST", "/api/inventory/products", {
        token: adminToken,
        body: { sku, name: `Test ${sku}`, category: "test", price: money(500), stock, ...overrides },
      });
      if (answer.status !== 201) throw new Error(`create product: ${answer.status} ${answer.text}`);
      return answer.body.id;
    },
    async available(productId: string) {
      const answer = await inventory.call<{ available: number }>(
        "GET",
        `/api/inventory/products/${productId}`,
      );
      if (answer.status !== 200) throw new Error(`get product: ${answer.status}`);
      return answer.body.available;
    },
    placedEnvelope,
    placeOrder: (orderId: string, items: Line[], eventId?: string) =>
      publish(placedEnvelope(orderId, items, eventId)),
    confirmOrder: (orderId: string, items: Line[], eventId?: string) =>
      publish(
        ordersEnvelope(
          OrderConfirmed.type,
          orderId,
          { items: orderLines(items), total: money(1000) },
          eventId,
        ),
      ),
    cancelOrder: (orderId: string, items: Line[], wasConfirmed: boolean, eventId?: string) =>
      publish(
        ordersEnvelope(
          OrderCancelled.type,
          orderId,
          { items: orderLines(items), total: money(1000), reason: "payment_declined", wasConfirmed },
          eventId,
        ),
      ),
    outcome: (orderId: string) =>
      eventually(
        () =>
          inventory.published.find(
            (event) =>
              event.subject === orderId &&
              (event.type === StockReserved.type || event.type === StockRejected.type),
          ),
        10_000,
        `the outcome of ${orderId}`,
      ),
  });
}
