import { NatsBus } from "@blossom/bus/nats";
import { NatsKvDiscovery } from "@blossom/client";
import { InstanceBucket } from "@blossom/client/nats";
import { dropPostgresDatabase } from "@blossom/store";
import {
  type BlossomProcess,
  type ClusterRow,
  callHttp,
  eventually,
  isAlive,
  spawnBlossom,
  testAdapters,
  waitForClusterReady,
} from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterEnv } from "./support/cluster-env.js";
import { type Product, ShopClient } from "./support/shop-client.js";
import { SERVICES } from "./support/topologies.js";

/**
 * `blossom cluster` on real PostgreSQL, NATS JetStream and Redis: every service as processes of
 * its own, orders and inventory with two replicas, found through the NATS instance bucket. A
 * user must not notice one replica of orders and one of inventory being killed.
 */
const adapters = testAdapters();
const tag = `t_cl_${process.pid}_${Date.now() % 1e8}`;

describe("blossom cluster", () => {
  let cluster: BlossomProcess;
  let rows: ClusterRow[] = [];
  let gateway = "";
  let bucket: InstanceBucket;
  let registry: NatsKvDiscovery;
  const pids = new Set<number>();

  beforeAll(async () => {
    cluster = spawnBlossom(
      ["cluster", "--replicas", "1,orders=2,inventory=2"],
      clusterEnv({ ...adapters, prefix: tag }, { GATEWAY_RATE_LIMIT_PER_MINUTE: "100000" }),
    );
    rows = await waitForClusterReady(cluster, 280_000);
    for (const row of rows) pids.add(row.pid);
    gateway = rows.find((row) => row.service === "gateway")?.url ?? "";
    bucket = await InstanceBucket.open({ url: adapters.natsUrl, prefix: tag });
    registry = new NatsKvDiscovery(bucket);
    await registry.start();
  }, 300_000);

  afterAll(async () => {
    if (cluster && cluster.child.exitCode === null) {
      cluster.child.kill("SIGKILL");
      await cluster.exited;
    }
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, "SIGKILL");
    registry?.close();
    await bucket?.destroy().catch(() => {});
    await bucket?.close();
    const bus = await NatsBus.connect({ url: adapters.natsUrl, prefix: tag });
    await bus.destroyStreams();
    await bus.close();
    for (const service of SERVICES) await dropPostgresDatabase(adapters.postgresUrl, `${tag}_${service}`);
  }, 60_000);

  it("prints every instance with its pid and URL, each registered in the instance bucket", () => {
    expect(rows.map((row) => row.instance).sort()).toEqual(
      [
        "gateway#1",
        "inventory#1",
        "inventory#2",
        "notifications#1",
        "orders#1",
        "orders#2",
        "payments#1",
        "users#1",
      ].sort(),
    );
    expect(new Set(rows.map((row) => row.pid)).size).toBe(rows.length);
    for (const row of rows) {
      expect(isAlive(row.pid)).toBe(true);
      expect(registry.records(row.service).map((record) => record.pid)).toContain(row.pid);
    }
    expect(registry.instances("orders")).toHaveLength(2);
  });

  it("serves the storefront unchanged: index.html with the shop's CSP, immutable assets, /api still routed", async () => {
    const html = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };
    const index = await fetch(`${gateway}/`, { headers: html });
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toMatch(/^text\/html/);
    expect(index.headers.get("cache-control")).toBe("no-cache");
    const csp = index.headers.get("content-security-policy") ?? "";
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    const page = await index.text();
    expect(page).toContain('<div id="root"></div>');
    // The built page's hashed script, cached for a year.
    const script = /<script type="module"[^>]*src="(\/assets\/[^"]+\.js)"/.exec(page)?.[1];
    expect(script, "a hashed script in index.html").toBeDefined();
    const asset = await fetch(`${gateway}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    // A client route (a browser's navigation) gets the app, which routes it.
    const route = await fetch(`${gateway}/orders/00000000-0000-0000-0000-000000000000`, { headers: html });
    expect(route.status).toBe(200);
    expect(await route.text()).toBe(page);
    // The API is not shadowed, even when asked for HTML.
    const api = await fetch(`${gateway}/api/inventory/products?limit=1`, { headers: html });
    expect(api.status).toBe(200);
    expect(api.headers.get("content-type")).toMatch(/^application\/json/);
    expect(((await api.json()) as { items: Product[] }).items).toHaveLength(1);
    const unknown = await fetch(`${gateway}/api/no-such-service`, { headers: html });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });

  it("runs the user journey through the gateway: sign-up, card, checkout confirmed", async () => {
    const buyer = await ShopClient.signUp(gateway, "Cluster");
    const card = await buyer.addCard();
    const catalog = await callHttp<{ items: Product[] }>(gateway, "GET", "/api/inventory/products?limit=1");
    const item = catalog.body.items[0] as Product;
    const placed = await buyer.placeOrder([{ productId: item.id, quantity: 1 }], card);
    expect(placed.status).toBe(202);
    expect(await buyer.settled(placed.body.id, 30_000)).toMatchObject({ status: "confirmed" });
  });

  it("hides a killed replica of orders and of inventory from the user, and restarts both", async () => {
    const buyer = await ShopClient.signUp(gateway, "Survivor");
    const card = await buyer.addCard();
    const victims = ["orders#1", "inventory#1"].map(
      (name) => rows.find((row) => row.instance === name) as ClusterRow,
    );
    for (const victim of victims) process.kill(victim.pid, "SIGKILL");

    // The very next actions: each must succeed, served by the replicas left.
    const catalog = await callHttp<{ items: Product[] }>(gateway, "GET", "/api/inventory/products?limit=2");
    expect(catalog.status).toBe(200);
    const item = catalog.body.items[1] as Product;
    const placed = await buyer.placeOrder([{ productId: item.id, quantity: 2 }], card);
    expect(placed.status).toBe(202);
    const order = await buyer.send("GET", `/api/orders/${placed.body.id}`);
    expect(order.status).toBe(200);
    expect(await buyer.settled(placed.body.id, 30_000)).toMatchObject({ status: "confirmed" });
    const after = await callHttp<Product>(gateway, "GET", `/api/inventory/products/${item.id}`);
    expect(after.status).toBe(200);
    expect(after.body.available).toBe(item.available - 2);

    // The supervisor restarts both; the new processes register themselves again.
    for (const victim of victims) {
      const replacement = await eventually(
        async () => {
          const fresh = registry.records(victim.service).filter((record) => !pids.has(record.pid));
          return fresh.length > 0 ? fresh : undefined;
        },
        120_000,
        `a restarted ${victim.instance}`,
      );
      for (const record of replacement) pids.add(record.pid);
      expect(registry.records(victim.service).map((record) => record.pid)).not.toContain(victim.pid);
      expect(registry.instances(victim.service)).toHaveLength(2);
    }
    expect(cluster.output()).toMatch(/orders#1 exited \(SIGKILL\); restarting/);
  }, 180_000);

  it("stops every instance on SIGINT and exits 0, leaving no process behind", async () => {
    cluster.child.kill("SIGINT");
    const exit = await cluster.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect([...pids].filter(isAlive)).toEqual([]);
    // Graceful stops deregister: nothing left in the bucket.
    await eventually(
      async () => (registry.records().length === 0 ? true : undefined),
      5_000,
      "an empty instance bucket",
    );
  }, 90_000);
});
