import { randomUUID } from "node:crypto";
import { createEnvelope } from "@blossom/bus";
import { NatsBus } from "@blossom/bus/nats";
import {
  type BlossomProcess,
  callHttp,
  eventually,
  freePort,
  spawnBlossom,
  waitForReady,
} from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShopClient } from "./support/shop-client.js";
import {
  adapters,
  type PreparedTopology,
  prepareTopology,
  SERVICES,
  TOPOLOGIES,
} from "./support/topologies.js";
import { newTraceId, tracedCheckout } from "./support/traced-checkout.js";

/**
 * The operations console's data on a cluster (issue 17): one process per service and two of
 * orders, over NATS JetStream, behind a gateway process. The gateway reads every instance it
 * finds through discovery — both orders replicas included — for `GET /api/ops/logs` and
 * `GET /api/ops/metrics`; a dead letter is replayed through the gateway into its service's
 * process. Runs when CI names the nats adapter (`npm run test:distributed`).
 */
const DISTRIBUTED = TOPOLOGIES.filter((topology) => topology.bus === "nats");
const ADMIN_PASSWORD = "cluster console admin password";

describe.each(DISTRIBUTED)("the operations console's data on a cluster ($name)", (topology) => {
  let prepared: PreparedTopology;
  const processes: BlossomProcess[] = [];
  let gateway = "";
  let admin: ShopClient;

  beforeAll(async () => {
    prepared = await prepareTopology(topology);
    const instances: Array<{ service: string; port: number }> = [];
    for (const service of [...SERVICES, "orders"]) instances.push({ service, port: await freePort() });
    const urls = (service: string) =>
      instances
        .filter((instance) => instance.service === service)
        .map((instance) => `http://127.0.0.1:${instance.port}`)
        .join(",");
    const discovery = Object.fromEntries(
      SERVICES.map((service) => [`${service.toUpperCase()}_URL`, urls(service)]),
    );
    const gatewayPort = await freePort();
    gateway = `http://127.0.0.1:${gatewayPort}`;
    const common = {
      ...prepared.env,
      ...discovery,
      LOG_LEVEL: "info",
      BLOSSOM_SEED: "true",
      BLOSSOM_ADMIN_PASSWORD: ADMIN_PASSWORD,
    };
    for (const { service, port } of instances) {
      const databaseUrl = prepared.env[`${service.toUpperCase()}_DATABASE_URL`] ?? "";
      const env: Record<string, string> = { ...common, PORT: String(port) };
      for (const other of SERVICES) delete env[`${other.toUpperCase()}_DATABASE_URL`];
      if (databaseUrl) env.DATABASE_URL = databaseUrl;
      processes.push(spawnBlossom(["start", service], env));
    }
    processes.push(
      spawnBlossom(["start", "gateway"], { ...common, PORT: String(gatewayPort), GATEWAY_METRICS_PORT: "0" }),
    );
    await Promise.all(processes.map((process_) => waitForReady(process_, 90_000)));
    admin = await eventually(
      () => ShopClient.logIn(gateway, "admin@blossom.local", ADMIN_PASSWORD).catch(() => undefined),
      15_000,
      "the admin's login",
    );
  }, 150_000);

  afterAll(async () => {
    for (const process_ of processes) process_.child.kill("SIGTERM");
    await Promise.all(processes.map((process_) => process_.exited));
    await prepared?.destroy();
  });

  it("reads the log lines of every instance, both orders replicas included", async () => {
    const customer = await ShopClient.signUp(gateway, "Ops");
    const lines = await eventually(
      async () => {
        // Round-robin: the calls reach both replicas of orders.
        for (let n = 0; n < 4; n++) await customer.send("GET", "/api/orders?limit=1");
        const page = await admin.send<{
          items: Array<{ service: string; instance: string }>;
          unavailable: string[];
        }>("GET", "/api/ops/logs?service=orders&limit=1000");
        expect(page.status).toBe(200);
        expect(page.body.unavailable).toEqual([]);
        return new Set(page.body.items.map((line) => line.instance)).size === 2 ? page.body.items : undefined;
      },
      15_000,
      "lines from both orders replicas",
    );
    expect(lines.every((line) => line.service === "orders")).toBe(true);
    const all = await admin.send<{ items: Array<{ service: string }> }>("GET", "/api/ops/logs?limit=1000");
    const services = new Set(all.body.items.map((line) => line.service));
    for (const name of ["gateway", ...SERVICES]) expect(services, name).toContain(name);
  });

  it("reads every instance's metrics history: one series per process", async () => {
    const page = await eventually(
      async () => {
        const answer = await admin.send<{
          series: Array<{ service: string; instance: string; points: unknown[] }>;
          unavailable: string[];
        }>("GET", "/api/ops/metrics");
        return answer.body.series.length === 7 &&
          answer.body.series.every((series) => series.points.length > 0)
          ? answer.body
          : undefined;
      },
      20_000,
      "a sample from each of the seven processes",
    );
    expect(page.unavailable).toEqual([]);
    expect(page.series.filter((series) => series.service === "orders")).toHaveLength(2);
    expect(new Set(page.series.map((series) => series.instance)).size).toBe(7);
  }, 30_000);

  it("reports how late a checkout's order-placed event reached inventory, over JetStream", async () => {
    await tracedCheckout(gateway, newTraceId());
    const key = 'blossom_event_delivery_delay_seconds{event_type="orders.order-placed.v1"}';
    const delay = await eventually(
      async () => {
        const answer = await admin.send<{
          series: Array<{
            points: Array<{
              histograms: Record<
                string,
                { rate: number; p95: number | null; buckets: Record<string, number> }
              >;
            }>;
          }>;
        }>("GET", "/api/ops/metrics?service=inventory");
        expect(answer.status).toBe(200);
        const points = answer.body.series.flatMap((series) => series.points);
        return points.map((point) => point.histograms[key]).find((figures) => figures !== undefined);
      },
      20_000,
      "inventory's delivery delay of the checkout's order-placed event",
    );
    expect(delay.rate).toBeGreaterThan(0);
    expect(delay.p95).toBeLessThan(60);
    expect(Object.values(delay.buckets).reduce((sum, count) => sum + count, 0)).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it("replays a dead letter through the gateway into its service's process", async () => {
    const bus = await NatsBus.connect({
      url: adapters.natsUrl,
      prefix: prepared.env.BLOSSOM_NATS_PREFIX ?? "",
    });
    const event = createEnvelope("faulty-publisher", {
      type: "orders.order-placed.v1",
      subject: randomUUID(),
      data: { bad: true },
    });
    try {
      await bus.publish([event]);
    } finally {
      await bus.close();
    }
    type Dead = { items: Array<{ id: string; eventId: string }> };
    const find = async () =>
      (await admin.send<Dead>("GET", "/api/inventory/dead-letters?limit=100")).body.items.filter(
        (item) => item.eventId === event.id,
      );
    const [letter] = await eventually(
      async () => ((await find()).length ? find() : undefined),
      15_000,
      "the dead letter",
    );
    const replayed = await admin.send("POST", `/api/inventory/dead-letters/${letter?.id}/replay`);
    expect(replayed.status).toBe(200);
    const again = await eventually(
      async () => (await find()).find((item) => item.id !== letter?.id),
      15_000,
      "the replayed event dead-lettered again",
    );
    expect((await admin.send("POST", `/api/inventory/dead-letters/${again.id}/discard`)).status).toBe(200);
    expect(await find()).toEqual([]);
    expect((await callHttp(gateway, "GET", "/api/inventory/dead-letters")).status).toBe(401);
  }, 40_000);
});
