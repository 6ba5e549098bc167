import { describe, expect, it } from "vitest";
import { rateLimitMetrics, reservationMetrics, sagaMetrics } from "./domain-metrics.js";
import { httpLabels } from "./http-labels.js";
import { ServiceMetrics } from "./service-metrics.js";

/** The sample lines of one metric name in an exposition, e.g. `name{a="b"} 1`. */
function samples(text: string, name: string): string[] {
  return text.split("\n").filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

/** The value of the one sample of `name` whose labels include every `key="value"` in `labels`. */
function value(text: string, name: string, labels: string): number {
  const wanted = labels.split(/,(?=[a-z_]+=")/);
  const line = samples(text, name).find((candidate) => {
    const own = candidate
      .slice(candidate.indexOf("{") + 1, candidate.lastIndexOf("}"))
      .split(/,(?=[a-z_]+=")/);
    return wanted.every((label) => own.includes(label));
  });
  if (!line) throw new Error(`no sample ${name}{${labels}} in:\n${samples(text, name).join("\n")}`);
  return Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("httpLabels", () => {
  it("uses the route template and the status class, never the raw URL", () => {
    expect(httpLabels("GET", "/api/orders/:id", 404)).toEqual({
      method: "GET",
      route: "/api/orders/:id",
      status_class: "4xx",
    });
  });

  it("labels a request no route matched `unmatched`, and an unusual method `_OTHER`", () => {
    expect(httpLabels("BREW", undefined, 404)).toEqual({
      method: "_OTHER",
      route: "unmatched",
      status_class: "4xx",
    });
    expect(httpLabels("GET", "/x", 999).status_class).toBe("unknown");
  });
});

describe("ServiceMetrics", () => {
  it("records requests in the RED histogram, labelled with the service", async () => {
    const metrics = new ServiceMetrics({ service: "orders" });
    metrics.observeRequest("POST", "/api/orders", 201, 0.03);
    metrics.observeRequest("POST", "/api/orders", 201, 7);
    metrics.observeRequest("GET", undefined, 404, 0.001);
    const text = await metrics.exposition();
    const labels = 'method="POST",route="/api/orders",status_class="2xx",service="orders"';
    expect(value(text, "http_server_request_duration_seconds_count", labels)).toBe(2);
    expect(value(text, "http_server_request_duration_seconds_bucket", `le="0.05",${labels}`)).toBe(1);
    expect(value(text, "http_server_request_duration_seconds_bucket", `le="10",${labels}`)).toBe(2);
    expect(
      value(
        text,
        "http_server_request_duration_seconds_count",
        'method="GET",route="unmatched",status_class="4xx"',
      ),
    ).toBe(1);
  });

  it("serves process and event-loop metrics with each service's own label, and only its own series", async () => {
    const users = new ServiceMetrics({ service: "users" });
    const orders = new ServiceMetrics({ service: "orders" });
    users.eventPublished("users.user-registered.v1");
    const [usersText, ordersText] = await Promise.all([users.exposition(), orders.exposition()]);
    for (const [text, service] of [
      [usersText, "users"],
      [ordersText, "orders"],
    ] as const) {
      expect(samples(text, "process_cpu_seconds_total")).toEqual([
        expect.stringMatching(new RegExp(`^process_cpu_seconds_total\\{service="${service}"\\} `)),
      ]);
      expect(samples(text, "nodejs_eventloop_lag_p99_seconds")).toHaveLength(1);
    }
    expect(value(usersText, "blossom_events_published_total", 'event_type="users.user-registered.v1"')).toBe(
      1,
    );
    expect(samples(ordersText, "blossom_events_published_total")).toEqual([]);
  });

  it("starts expected event series at zero and counts consumption, redeliveries and dead letters", async () => {
    const metrics = new ServiceMetrics({ service: "inventory" });
    metrics.expectEvents({
      published: ["inventory.stock-reserved.v1"],
      consumed: ["orders.order-placed.v1"],
    });
    const type = 'event_type="orders.order-placed.v1"';
    let text = await metrics.exposition();
    expect(value(text, "blossom_events_published_total", 'event_type="inventory.stock-reserved.v1"')).toBe(0);
    expect(value(text, "blossom_events_consumed_total", `${type},outcome="failed"`)).toBe(0);
    expect(value(text, "blossom_events_dead_lettered_total", type)).toBe(0);

    metrics.eventConsumed("orders.order-placed.v1", "failed", 1);
    metrics.eventConsumed("orders.order-placed.v1", "handled", 2);
    metrics.eventConsumed("orders.order-placed.v1", "duplicate", 3);
    metrics.eventDeadLettered("orders.order-placed.v1");
    text = await metrics.exposition();
    expect(value(text, "blossom_events_consumed_total", `${type},outcome="handled"`)).toBe(1);
    expect(value(text, "blossom_events_consumed_total", `${type},outcome="duplicate"`)).toBe(1);
    expect(value(text, "blossom_events_redelivered_total", type)).toBe(2);
    expect(value(text, "blossom_events_dead_lettered_total", type)).toBe(1);
  });

  it("records each event type's delivery delay from its envelope's time, starting at zero", async () => {
    const metrics = new ServiceMetrics({ service: "inventory" });
    metrics.expectEvents({ consumed: ["orders.order-placed.v1", "payments.payment-authorized.v1"] });
    const placed = 'event_type="orders.order-placed.v1"';
    const authorized = 'event_type="payments.payment-authorized.v1"';
    let text = await metrics.exposition();
    expect(value(text, "blossom_event_delivery_delay_seconds_count", `${placed},service="inventory"`)).toBe(
      0,
    );
    expect(value(text, "blossom_event_delivery_delay_seconds_bucket", `le="+Inf",${authorized}`)).toBe(0);

    const now = Date.parse("2025-01-01T00:00:10.000Z");
    metrics.eventDelivered("orders.order-placed.v1", "2025-01-01T00:00:09.996Z", now); // 4 ms
    metrics.eventDelivered("orders.order-placed.v1", "2025-01-01T00:00:08.000Z", now); // 2 s
    metrics.eventDelivered("payments.payment-authorized.v1", "2025-01-01T00:00:00.000Z", now); // 10 s
    // A publisher's clock ahead of ours counts as no delay; an unreadable time is not recorded.
    metrics.eventDelivered("payments.payment-authorized.v1", "2025-01-01T00:00:11.000Z", now);
    metrics.eventDelivered("payments.payment-authorized.v1", "yesterday", now);
    text = await metrics.exposition();
    expect(value(text, "blossom_event_delivery_delay_seconds_count", placed)).toBe(2);
    expect(value(text, "blossom_event_delivery_delay_seconds_bucket", `le="0.001",${placed}`)).toBe(0);
    expect(value(text, "blossom_event_delivery_delay_seconds_bucket", `le="0.005",${placed}`)).toBe(1);
    expect(value(text, "blossom_event_delivery_delay_seconds_bucket", `le="2.5",${placed}`)).toBe(2);
    expect(value(text, "blossom_event_delivery_delay_seconds_sum", placed)).toBeCloseTo(2.004, 6);
    expect(value(text, "blossom_event_delivery_delay_seconds_count", authorized)).toBe(2);
    expect(value(text, "blossom_event_delivery_delay_seconds_bucket", `le="0.001",${authorized}`)).toBe(1);
    expect(value(text, "blossom_event_delivery_delay_seconds_bucket", `le="5",${authorized}`)).toBe(1);
    expect(value(text, "blossom_event_delivery_delay_seconds_bucket", `le="10",${authorized}`)).toBe(2);
    expect(value(text, "blossom_event_delivery_delay_seconds_bucket", `le="60",${authorized}`)).toBe(2);
  });

  it("reads the outbox backlog and consumer lag at scrape time, keeping the last value if a read fails", async () => {
    const metrics = new ServiceMetrics({ service: "orders" });
    let backlog: number | Error = 3;
    metrics.watchOutboxBacklog(async () => {
      if (backlog instanceof Error) throw backlog;
      return backlog;
    });
    metrics.watchConsumerLag(async () => 7);
    expect(value(await metrics.exposition(), "blossom_outbox_backlog", 'service="orders"')).toBe(3);
    backlog = 5;
    expect(value(await metrics.exposition(), "blossom_outbox_backlog", 'service="orders"')).toBe(5);
    backlog = new Error("database closed");
    const text = await metrics.exposition();
    expect(value(text, "blossom_outbox_backlog", 'service="orders"')).toBe(5);
    expect(value(text, "blossom_consumer_lag", 'service="orders"')).toBe(7);
  });

  it("reports each upstream's breaker as 0 closed, 1 half-open, 2 open", async () => {
    const metrics = new ServiceMetrics({ service: "gateway" });
    const states = new Map<string, "closed" | "half-open" | "open">([
      ["orders", "closed"],
      ["payments", "open"],
    ]);
    metrics.watchUpstreams(() => [...states].map(([upstream, state]) => ({ upstream, state })));
    let text = await metrics.exposition();
    expect(value(text, "blossom_circuit_breaker_state", 'upstream="orders"')).toBe(0);
    expect(value(text, "blossom_circuit_breaker_state", 'upstream="payments"')).toBe(2);
    states.set("payments", "half-open");
    text = await metrics.exposition();
    expect(value(text, "blossom_circuit_breaker_state", 'upstream="payments"')).toBe(1);
  });

  it("gauges are absent where nothing is watched (the gateway has no outbox)", async () => {
    const text = await new ServiceMetrics({ service: "gateway" }).exposition();
    expect(text).not.toContain("blossom_outbox_backlog");
    expect(text).not.toContain("blossom_consumer_lag");
  });
});

describe("domain metrics", () => {
  it("registers once per service, starts every outcome at zero and times checkouts", async () => {
    const metrics = new ServiceMetrics({ service: "orders" });
    expect(sagaMetrics(metrics)).toBe(sagaMetrics(metrics));
    let text = await metrics.exposition();
    for (const outcome of ["confirmed", "cancelled", "timed_out"]) {
      expect(value(text, "blossom_saga_outcomes_total", `outcome="${outcome}"`)).toBe(0);
      expect(value(text, "blossom_checkout_duration_seconds_count", `outcome="${outcome}"`)).toBe(0);
    }
    sagaMetrics(metrics).settled("confirmed", new Date(Date.now() - 400));
    text = await metrics.exposition();
    expect(value(text, "blossom_saga_outcomes_total", 'outcome="confirmed"')).toBe(1);
    expect(value(text, "blossom_checkout_duration_seconds_bucket", 'le="0.25",outcome="confirmed"')).toBe(0);
    expect(value(text, "blossom_checkout_duration_seconds_bucket", 'le="0.5",outcome="confirmed"')).toBe(1);
  });

  it("counts stock reservations and rate-limit rejections by bounded outcome", async () => {
    const inventory = new ServiceMetrics({ service: "inventory" });
    reservationMetrics(inventory).recorded("reserved");
    reservationMetrics(inventory).recorded("expired", 3);
    const gateway = new ServiceMetrics({ service: "gateway" });
    rateLimitMetrics(gateway).rejected("login");
    const inventoryText = await inventory.exposition();
    expect(value(inventoryText, "blossom_stock_reservations_total", 'outcome="reserved"')).toBe(1);
    expect(value(inventoryText, "blossom_stock_reservations_total", 'outcome="expired"')).toBe(3);
    expect(value(inventoryText, "blossom_stock_reservations_total", 'outcome="committed"')).toBe(0);
    const gatewayText = await gateway.exposition();
    expect(value(gatewayText, "blossom_rate_limit_rejections_total", 'route_class="login"')).toBe(1);
    expect(value(gatewayText, "blossom_rate_limit_rejections_total", 'route_class="api"')).toBe(0);
  });
});
