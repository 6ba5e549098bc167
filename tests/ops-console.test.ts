import { randomUUID } from "node:crypto";
import { startTracing } from "@blossom/telemetry";
import { callHttp, eventually } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPlatform } from "./support/embedded-platform.js";
import { ShopClient } from "./support/shop-client.js";
import { newTraceId, tracedCheckout } from "./support/traced-checkout.js";

/**
 * The operations console's data APIs through the gateway on the embedded default (issue 17):
 * every runnable's recent log lines (`GET /api/ops/logs`, filterable, with a live-tail cursor)
 * and its last minutes of metrics (`GET /api/ops/metrics`), read by the gateway from every
 * instance through discovery; admins only, and no secret in any answer.
 *
 * Tracing starts before the platform's modules load (as the `blossom` bootstrap does), so that
 * log lines carry trace ids.
 */
const ADMIN_PASSWORD = "ops console admin password";
const RUNNABLES = ["gateway", "users", "inventory", "orders", "payments", "notifications"];

interface LogLine {
  time: string;
  level: string;
  service: string;
  instance: string;
  msg: string;
  traceId: string | null;
  fields: Record<string, unknown>;
}
interface LogsPage {
  items: LogLine[];
  cursor: string;
  unavailable: string[];
}
interface MetricsPage {
  series: Array<{
    service: string;
    instance: string;
    intervalSeconds: number;
    points: Array<{
      time: string;
      requests: { rate: number; errorRate: number; p50Ms: number | null; p99Ms: number | null };
      routes: Array<{ method: string; route: string; rate: number }>;
      rates: Record<string, number>;
      gauges: Record<string, number>;
      histograms: Record<
        string,
        { rate: number; p50: number | null; p95: number | null; buckets: Record<string, number> }
      >;
    }>;
  }>;
  unavailable: string[];
}

let platform: TestPlatform;
let admin: ShopClient;
let checkout: Awaited<ReturnType<typeof tracedCheckout>>;
const traceId = newTraceId();

beforeAll(async () => {
  await startTracing({ serviceName: "blossom", version: "test", environment: "test", env: {} });
  const { startTestPlatform } = await import("./support/embedded-platform.js");
  platform = await startTestPlatform({ BLOSSOM_ADMIN_PASSWORD: ADMIN_PASSWORD, LOG_LEVEL: "info" });
  admin = await ShopClient.logIn(platform.gateway, "admin@blossom.local", ADMIN_PASSWORD);
  checkout = await tracedCheckout(platform.gateway, traceId);
  expect((await checkout.customer.settled(checkout.order.id)).status).toBe("confirmed");
}, 120_000);
afterAll(async () => {
  await platform?.destroy();
});

async function logs(query: string): Promise<LogsPage> {
  const answer = await admin.send<LogsPage>("GET", `/api/ops/logs?${query}`);
  if (answer.status !== 200) throw new Error(`GET logs: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

describe("GET /api/ops/logs", () => {
  it("serves every runnable's recent lines, oldest first, and filters them by service and level", async () => {
    const all = await logs("limit=1000");
    expect(all.unavailable).toEqual([]);
    const services = new Set(all.items.map((line) => line.service));
    for (const runnable of RUNNABLES) expect(services, runnable).toContain(runnable);
    const times = all.items.map((line) => line.time);
    expect(times).toEqual([...times].sort());

    const orders = await logs("service=orders&limit=50");
    expect(orders.items.length).toBeGreaterThan(0);
    expect(orders.items.every((line) => line.service === "orders")).toBe(true);
    const gateway = await logs("service=gateway&limit=50");
    expect(gateway.items.length).toBeGreaterThan(0);
    expect(gateway.items.every((line) => line.service === "gateway")).toBe(true);

    const warnings = await logs("level=warn&limit=1000");
    expect(warnings.items.every((line) => ["warn", "error", "fatal"].includes(line.level))).toBe(true);
  });

  it("finds one checkout's lines by its trace id across services, and by its order id", async () => {
    const traced = await eventually(
      async () => {
        const page = await logs(`traceId=${traceId}&limit=1000`);
        const services = new Set(page.items.map((line) => line.service));
        return ["gateway", "users", "orders", "inventory", "payments"].every((name) => services.has(name))
          ? page
          : undefined;
      },
      15_000,
      "the checkout's lines in every service it crossed",
    );
    expect(traced.items.every((line) => line.traceId === traceId)).toBe(true);
    const byOrder = await logs(`orderId=${checkout.order.id}&limit=1000`);
    expect(byOrder.items.length).toBeGreaterThan(0);
    expect(byOrder.items.every((line) => JSON.stringify(line).includes(checkout.order.id))).toBe(true);
  });

  it("tails: the cursor brings only the lines logged since", async () => {
    const first = await logs("limit=1000");
    // A request id of the caller's is kept (query values are redacted from logged URLs).
    const marker = randomUUID();
    const answer = await callHttp(platform.gateway, "GET", "/api/inventory/products", {
      headers: { "x-request-id": marker },
    });
    expect(answer.status).toBe(200);
    const next = await eventually(
      async () => {
        const page = await logs(`after=${first.cursor}&limit=1000`);
        const services = new Set(
          page.items.filter((line) => line.fields.request_id === marker).map((line) => line.service),
        );
        return services.has("gateway") && services.has("inventory") ? page : undefined;
      },
      5_000,
      "the new request's access lines",
    );
    const seen = new Set(first.items.map((line) => JSON.stringify(line)));
    expect(next.items.filter((line) => seen.has(JSON.stringify(line)))).toEqual([]);
    // Nothing new since the last cursor (the tail's own reads are not logged at info).
    const again = await logs(`after=${next.cursor}&service=inventory&limit=1000`);
    expect(again.items).toEqual([]);
  });

  it("never answers with a token, a password or card data", async () => {
    const page = await logs("limit=1000");
    const text = JSON.stringify(page);
    expect(text).not.toContain(admin.tokens.accessToken);
    expect(text).not.toContain(checkout.customer.tokens.accessToken);
    expect(text).not.toContain(checkout.customer.tokens.refreshToken);
    expect(text).not.toContain(ADMIN_PASSWORD);
    expect(text).not.toContain("correct horse battery");
    expect(text).not.toContain("4242424242424242");
  });
});

describe("GET /api/ops/metrics", () => {
  it("serves each runnable's sampled history: request rate, latency per route, saga outcomes, gauges", async () => {
    const page = await eventually(
      async () => {
        const answer = await admin.send<MetricsPage>("GET", "/api/ops/metrics");
        expect(answer.status).toBe(200);
        const orders = answer.body.series.find((series) => series.service === "orders");
        const settled = orders?.points.some((point) =>
          Object.keys(point.rates).some((key) =>
            key.startsWith('blossom_saga_outcomes_total{outcome="confirmed"'),
          ),
        );
        return settled && answer.body.series.every((series) => series.points.length > 0)
          ? answer.body
          : undefined;
      },
      20_000,
      "a sample after the checkout in every runnable's history",
    );
    expect(page.unavailable).toEqual([]);
    expect(page.series.map((series) => series.service).sort()).toEqual([...RUNNABLES].sort());
    const orders = page.series.find((series) => series.service === "orders");
    expect(orders?.intervalSeconds).toBe(5);
    const busy = orders?.points.find((point) => point.routes.some((route) => route.route === "/api/orders"));
    expect(busy?.requests.rate).toBeGreaterThan(0);
    expect(busy?.requests.p50Ms).toBeGreaterThan(0);
    expect(orders?.points.at(-1)?.gauges).toHaveProperty("blossom_outbox_backlog");
    expect(orders?.points.at(-1)?.gauges).toHaveProperty("blossom_consumer_lag");
    const gateway = page.series.find((series) => series.service === "gateway");
    expect(Object.keys(gateway?.points.at(-1)?.gauges ?? {})).toContain(
      'blossom_circuit_breaker_state{upstream="orders"}',
    );

    // `since` returns only the later points; `service` only that runnable's series.
    const last = orders?.points.at(-1)?.time ?? "";
    const later = await admin.send<MetricsPage>(
      "GET",
      `/api/ops/metrics?service=orders&since=${encodeURIComponent(last)}`,
    );
    expect(later.status).toBe(200);
    expect(later.body.series.map((series) => series.service)).toEqual(["orders"]);
    expect(later.body.series[0]?.points.every((point) => point.time > last)).toBe(true);
  }, 30_000);

  it("reports how late each event type reached each consumer: inventory's order-placed delivery delay", async () => {
    const key = 'blossom_event_delivery_delay_seconds{event_type="orders.order-placed.v1"}';
    const delay = await eventually(
      async () => {
        const answer = await admin.send<MetricsPage>("GET", "/api/ops/metrics?service=inventory");
        expect(answer.status).toBe(200);
        const points = answer.body.series.flatMap((series) => series.points);
        return points.map((point) => point.histograms[key]).find((figures) => figures !== undefined);
      },
      20_000,
      "a sample of inventory's history after it handled the checkout's order-placed event",
    );
    expect(delay.rate).toBeGreaterThan(0);
    // On the embedded default the relay publishes at commit and the memory bus hands over at
    // once: well under the histogram's last bucket (60 s).
    expect(delay.p95).toEqual(expect.any(Number));
    expect(delay.p95).toBeLessThan(60);
    const counts = Object.values(delay.buckets);
    expect(counts.reduce((sum, count) => sum + count, 0)).toBeGreaterThanOrEqual(1);
    expect(delay.buckets).not.toHaveProperty("+Inf");
  }, 30_000);
});

describe("GET /api/notifications/mailbox", () => {
  interface Mailbox {
    items: Array<{
      id: string;
      channel: string;
      template: string;
      recipient: string;
      subject: string;
      body: string;
    }>;
    nextCursor: string | null;
  }

  it("serves the development mailbox: the checkout's confirmation email, with its body, newest first", async () => {
    const email = await eventually(
      async () => {
        const answer = await admin.send<Mailbox>(
          "GET",
          `/api/notifications/mailbox?channel=email&recipient=${encodeURIComponent(checkout.email)}`,
        );
        expect(answer.status).toBe(200);
        return answer.body.items.find((item) => item.template === "order-confirmed");
      },
      15_000,
      "the order confirmation in the mailbox",
    );
    expect(email.recipient).toBe(checkout.email);
    expect(email.body).toContain(checkout.order.id.slice(0, 8));
    const all = await admin.send<Mailbox>("GET", "/api/notifications/mailbox?limit=1");
    expect(all.body.items).toHaveLength(1);
    expect(all.body.nextCursor).toEqual(expect.any(String));
    const next = await admin.send<Mailbox>(
      "GET",
      `/api/notifications/mailbox?limit=1&cursor=${all.body.nextCursor}`,
    );
    expect(next.body.items[0]?.id).not.toBe(all.body.items[0]?.id);
  });
});

describe("GET /api/orders/sagas", () => {
  interface Sagas {
    counts: Record<string, number>;
    items: Array<{
      id: string;
      status: string;
      step: string | null;
      overdue: boolean;
      history: Array<{ status: string }>;
    }>;
    nextCursor: string | null;
  }

  it("lists every customer's checkouts with their step and history, and the count per status", async () => {
    const answer = await admin.send<Sagas>("GET", "/api/orders/sagas?status=confirmed&limit=100");
    expect(answer.status).toBe(200);
    expect(answer.body.counts.confirmed).toBeGreaterThanOrEqual(1);
    const order = answer.body.items.find((item) => item.id === checkout.order.id);
    expect(order).toMatchObject({ status: "confirmed", step: "done", overdue: false });
    expect(order?.history.map((entry) => entry.status)).toEqual(["pending", "confirmed"]);
    const overdue = await admin.send<Sagas>("GET", "/api/orders/sagas?overdue=true");
    expect(overdue.body.items.every((item) => item.status === "pending" && item.overdue)).toBe(true);
  });
});

describe("access", () => {
  it("is for admins only: 401 without a token, 403 for a customer, also on the instances' internal routes", async () => {
    for (const path of [
      "/api/ops/logs",
      "/api/ops/metrics",
      "/api/notifications/mailbox",
      "/api/orders/sagas",
    ]) {
      expect((await callHttp(platform.gateway, "GET", path)).status, path).toBe(401);
      expect((await checkout.customer.send("GET", path)).status, path).toBe(403);
    }
    // Never routed by the gateway; on an instance, admins only.
    expect((await admin.send("GET", "/internal/ops/logs")).status).toBe(404);
    const orders = platform.urls.get("orders") ?? "";
    expect((await callHttp(orders, "GET", "/internal/ops/logs")).status).toBe(401);
    expect(
      (await callHttp(orders, "GET", "/internal/ops/metrics", { headers: checkout.customer.auth })).status,
    ).toBe(403);
    expect((await callHttp(orders, "GET", "/internal/ops/metrics", { headers: admin.auth })).status).toBe(
      200,
    );
  });
});
