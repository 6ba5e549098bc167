/**
 * Test support (not part of the build): the inventory service running in a real ServiceHost on
 * a test database, with an in-memory bus to drive the saga and admin tokens signed by a local
 * key, so tests need neither the users nor the orders service.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEnvelope, type EventEnvelope, MemoryBus } from "@blossom/bus";
import { resolveSettings, ServiceHost } from "@blossom/host";
import { OrderCancelled, OrderConfirmed, OrderPlaced } from "@blossom/orders-contracts";
import { createLogger } from "@blossom/runtime";
import { eventually, type TestDatabase, type TestStoreFactory, testSigningKey } from "@blossom/testkit";
import { DEFAULT_HOLD_SECONDS } from "../domain/hold.js";
import { ProductCreated, StockRejected, StockReserved } from "../events/contracts.js";
import { inventoryService } from "../service.js";
import type { InventorySettingsSchema } from "../settings.js";
import type { InventoryTables } from "../store/tables.js";

export interface HttpAnswer<T = unknown> {
  status: number;
  body: T;
}

export interface Line {
  productId: string;
  quantity: number;
}

export interface InventoryHarness {
  readonly hosts: ServiceHost<InventoryTables>[];
  readonly bus: MemoryBus;
  readonly url: string;
  /** Every event inventory published, in arrival order. */
  readonly published: EventEnvelope[];
  /** Lines inventory logged at warn level or above, parsed. */
  readonly problems: Array<{ level: string; msg: string; [key: string]: unknown }>;
  token(role: "admin" | "customer", userId?: string): Promise<string>;
  /** A service token for `service`, signed as the users service signs them. */
  serviceToken(service: string): Promise<string>;
  call<T = unknown>(method: string, path: string, body?: unknown, token?: string): Promise<HttpAnswer<T>>;
  /** As admin: creates a product with a unique SKU and returns its id. */
  createProduct(stock: number, overrides?: Record<string, unknown>): Promise<string>;
  available(productId: string): Promise<number>;
  /** Publishes orders events and resolves once inventory handled (committed) them. */
  placeOrder(orderId: string, items: Line[], eventId?: string): Promise<void>;
  confirmOrder(orderId: string, items: Line[], eventId?: string): Promise<void>;
  cancelOrder(orderId: string, items: Line[], wasConfirmed: boolean, eventId?: string): Promise<void>;
  publishOrderEvents(envelopes: EventEnvelope[]): Promise<void>;
  placedEnvelope(orderId: string, items: Line[], eventId?: string): EventEnvelope;
  /** Waits for inventory's outcome event for the order. */
  outcome(orderId: string): Promise<EventEnvelope>;
  close(): Promise<void>;
}

const money = (amount: number) => ({ amount, currency: "USD" as const });
const orderLines = (items: Line[]) => items.map((item) => ({ ...item, unitPrice: money(1000) }));

/** The orders events as orders publishes them (every field of orders' contracts). */
export function ordersEnvelope(
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

export interface HarnessOptions {
  factory: TestStoreFactory;
  holdSeconds?: number;
  /** Hosts sharing one database and one consumer name (PostgreSQL only: PGlite has one process). */
  replicas?: number;
  concurrency?: number;
}

export async function startInventory(options: HarnessOptions): Promise<InventoryHarness> {
  const database: TestDatabase = await options.factory.createDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), "blossom-inventory-test-"));
  const bus = new MemoryBus();
  const published: EventEnvelope[] = [];
  const problems: InventoryHarness["problems"] = [];
  const key = await testSigningKey(randomUUID());
  const logger = createLogger({
    service: "inventory",
    level: "warn",
    destination: {
      write(line: string) {
        problems.push(JSON.parse(line));
      },
    },
  });
  const definition =
    options.concurrency === undefined
      ? inventoryService
      : { ...inventoryService, consumerOptions: { concurrency: options.concurrency } };
  const hosts: ServiceHost<InventoryTables, InventorySettingsSchema>[] = [];
  const replicas = database.adapter === "postgres" ? (options.replicas ?? 1) : 1;
  await bus.subscribe(
    "probe",
    [ProductCreated.type, StockReserved.type, StockRejected.type],
    async (event) => {
      published.push(event);
    },
    { concurrency: 64 },
  );
  try {
    for (let replica = 0; replica < replicas; replica++) {
      hosts.push(
        await ServiceHost.create(definition, {
          bus,
          logger,
          clients: {
            get(service) {
              throw new Error(`inventory calls no other service (asked for ${service})`);
            },
          },
          verifier: key.verifier,
          dataDir,
          ...(database.adapter === "postgres" ? { databaseUrl: database.location } : {}),
          host: "127.0.0.1",
          port: 0,
          seed: false,
          settings: resolveSettings(definition.settings, {
            INVENTORY_RESERVATION_HOLD_SECONDS: options.holdSeconds ?? DEFAULT_HOLD_SECONDS,
          }),
          environment: "test",
          relayPollIntervalMs: 50,
        }),
      );
    }
    for (const host of hosts) await host.subscribe();
    for (const host of hosts) await host.listen();
  } catch (error) {
    for (const host of hosts) await host.close().catch(() => {});
    await bus.close();
    await database.destroy();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const [first] = hosts;
  if (!first) throw new Error("no host started");
  const url = first.url;

  const token = (role: "admin" | "customer", userId = `${role}-1`) => key.token({ userId, role }, "10m");
  const serviceToken = (service: string) => key.serviceToken(service);
  const adminToken = await token("admin");

  const call = async <T>(method: string, path: string, body?: unknown, bearer?: string) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };

  const publishOrderEvents = (envelopes: EventEnvelope[]) => bus.publish(envelopes);
  const placedEnvelope = (orderId: string, items: Line[], eventId?: string) =>
    ordersEnvelope(
      OrderPlaced.type,
      orderId,
      { items: orderLines(items), total: money(1000), paymentMethodId: "pm-1" },
      eventId,
    );

  return {
    hosts,
    bus,
    url,
    published,
    problems,
    token,
    serviceToken,
    call,
    async createProduct(stock, overrides = {}) {
      const sku = `T-${randomUUID().slice(0, 8)}`;
      const answer = await call<{ id: string }>(
        "POST",
        "/api/inventory/products",
        { sku, name: `Test ${sku}`, category: "test", price: money(500), stock, ...overrides },
        adminToken,
      );
      if (answer.status !== 201)
        throw new Error(`create product: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body.id;
    },
    async available(productId) {
      const answer = await call<{ available: number }>("GET", `/api/inventory/products/${productId}`);
      if (answer.status !== 200) throw new Error(`get product: ${answer.status}`);
      return answer.body.available;
    },
    placedEnvelope,
    publishOrderEvents,
    placeOrder: (orderId, items, eventId) => publishOrderEvents([placedEnvelope(orderId, items, eventId)]),
    confirmOrder: (orderId, items, eventId) =>
      publishOrderEvents([
        ordersEnvelope(
          OrderConfirmed.type,
          orderId,
          { items: orderLines(items), total: money(1000) },
          eventId,
        ),
      ]),
    cancelOrder: (orderId, items, wasConfirmed, eventId) =>
      publishOrderEvents([
        ordersEnvelope(
          OrderCancelled.type,
          orderId,
          { items: orderLines(items), total: money(1000), reason: "payment_declined", wasConfirmed },
          eventId,
        ),
      ]),
    outcome: (orderId) =>
      eventually(
        () =>
          published.find(
            (event) =>
              event.subject === orderId &&
              (event.type === StockReserved.type || event.type === StockRejected.type),
          ),
        10_000,
        `the outcome of ${orderId}`,
      ),
    async close() {
      for (const host of hosts) await host.stopAccepting();
      for (const host of hosts) await host.flushOutbox();
      for (const host of hosts) await host.close();
      await bus.close();
      await database.destroy();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
