import {
  type BlossomProcess,
  callHttp,
  eventually,
  freePort,
  spawnBlossom,
  waitForReady,
} from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Product, ShopClient } from "./support/shop-client.js";
import { type PreparedTopology, prepareTopology, SERVICES, TOPOLOGIES } from "./support/topologies.js";

/**
 * The distributed topology: one OS process per service (`blossom start <service>`), each on its
 * own PostgreSQL database, talking over NATS JetStream, behind a gateway process. Runs when CI
 * names the nats adapter (`npm run test:distributed`).
 */
const DISTRIBUTED = TOPOLOGIES.filter((topology) => topology.bus === "nats");

describe.each(DISTRIBUTED)("one process per service ($name)", (topology) => {
  let prepared: PreparedTopology;
  const processes: BlossomProcess[] = [];
  let gateway = "";

  beforeAll(async () => {
    prepared = await prepareTopology(topology);
    const ports = Object.fromEntries(
      await Promise.all(SERVICES.map(async (service) => [service, await freePort()] as const)),
    );
    const discovery = Object.fromEntries(
      SERVICES.map((service) => [`${service.toUpperCase()}_URL`, `http://127.0.0.1:${ports[service]}`]),
    );
    const gatewayPort = await freePort();
    gateway = `http://127.0.0.1:${gatewayPort}`;
    const common = { ...prepared.env, ...discovery, LOG_LEVEL: "warn", BLOSSOM_SEED: "true" };
    for (const service of SERVICES) {
      const databaseUrl = prepared.env[`${service.toUpperCase()}_DATABASE_URL`] ?? "";
      const env: Record<string, string> = { ...common, PORT: String(ports[service]) };
      // One service per process: it takes the plain DATABASE_URL, as a pod would.
      for (const other of SERVICES) delete env[`${other.toUpperCase()}_DATABASE_URL`];
      if (databaseUrl) env.DATABASE_URL = databaseUrl;
      processes.push(spawnBlossom(["start", service], env));
    }
    processes.push(
      spawnBlossom(["start", "gateway"], { ...common, PORT: String(gatewayPort), GATEWAY_METRICS_PORT: "0" }),
    );
    await Promise.all(processes.map((process_) => waitForReady(process_, 90_000)));
  }, 120_000);

  afterAll(async () => {
    for (const process_ of processes) process_.child.kill("SIGTERM");
    await Promise.all(processes.map((process_) => process_.exited));
    await prepared?.destroy();
  });

  it("each process runs only its service, on its own database", () => {
    const users = processes[0]?.output() ?? "";
    expect(users).toMatch(/users\s+http:\/\/127\.0\.0\.1:\d+\s+postgres /);
    expect(users).not.toMatch(/inventory\s+http/);
  });

  it("the gateway is ready when every service process is", async () => {
    const ready = await eventually(
      async () => {
        const answer = await callHttp<{ status: string }>(gateway, "GET", "/health/ready");
        return answer.status === 200 ? answer.body : undefined;
      },
      15_000,
      "platform readiness",
    );
    expect(ready.status).toBe("ready");
  });

  it("carries an event from one process to another through JetStream: sign-up → welcome email", async () => {
    const ann = await ShopClient.signUp(gateway, "Multi");
    const items = await eventually(
      async () => {
        const list = await ann.send<{ items: Array<{ template: string }> }>("GET", "/api/notifications");
        return list.body.items.length > 0 ? list.body.items : undefined;
      },
      10_000,
      "the welcome notification from another process",
    );
    expect(items).toEqual([expect.objectContaining({ template: "welcome" })]);
  });

  it("runs a whole checkout across five processes: priced over HTTP, reserved, authorized, confirmed", async () => {
    const buyer = await ShopClient.signUp(gateway, "Buyer");
    const card = await buyer.addCard();
    const catalog = await callHttp<{ items: Product[] }>(gateway, "GET", "/api/inventory/products?limit=1");
    const item = catalog.body.items[0] as Product;
    const placed = await buyer.placeOrder([{ productId: item.id, quantity: 3 }], card);
    expect(placed.status).toBe(202);
    expect(placed.body.total.amount).toBe(item.price.amount * 3);
    expect(await buyer.settled(placed.body.id, 15_000)).toMatchObject({ status: "confirmed" });
    const after = await callHttp<Product>(gateway, "GET", `/api/inventory/products/${item.id}`);
    expect(after.body.available).toBe(item.available - 3);
  });

  it("stops every process cleanly on SIGTERM", async () => {
    for (const process_ of processes) process_.child.kill("SIGTERM");
    const exits = await Promise.all(processes.map((process_) => process_.exited));
    expect(exits).toEqual(processes.map(() => ({ code: 0, signal: null })));
  });
});
