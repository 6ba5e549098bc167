import { describe, expect, it } from "vitest";
import { sagaMetrics } from "./domain-metrics.js";
import { bucketQuantile, MetricsHistory } from "./metrics-history.js";
import { ServiceMetrics } from "./service-metrics.js";

describe("MetricsHistory", () => {
  it("keeps, per interval, request rate, error rate and latency quantiles per route, counter rates and gauges", async () => {
    const metrics = new ServiceMetrics({ service: "orders" });
    metrics.watchOutboxBacklog(async () => 7);
    metrics.watchUpstreams(() => [{ upstream: "payments", state: "open" }]);
    const saga = sagaMetrics(metrics);
    const history = new MetricsHistory({ registry: metrics.registry, intervalMs: 1000 });
    await history.sample();
    expect(history.points()).toEqual([]);

    for (let n = 0; n < 90; n++) metrics.observeRequest("GET", "/api/orders/:id", 200, 0.02);
    for (let n = 0; n < 10; n++) metrics.observeRequest("GET", "/api/orders/:id", 503, 3);
    metrics.observeRequest("POST", "/api/orders", 201, 0.2);
    saga.settled("confirmed", new Date(Date.now() - 400));
    await history.sample();

    const [point] = history.points();
    expect(point).toBeDefined();
    const seconds = point?.intervalSeconds ?? 1;
    expect(point?.requests.rate).toBeCloseTo(101 / seconds, 0);
    const byId = point?.routes.find((route) => route.route === "/api/orders/:id");
    expect(byId).toMatchObject({ method: "GET" });
    expect(byId?.errorRate).toBeCloseTo(10 / seconds, 0);
    expect(byId?.p50Ms).toBeGreaterThan(10);
    expect(byId?.p50Ms).toBeLessThanOrEqual(25);
    expect(byId?.p99Ms).toBeGreaterThan(2500);
    expect(point?.gauges.blossom_outbox_backlog).toBe(7);
    expect(point?.gauges['blossom_circuit_breaker_state{upstream="payments"}']).toBe(2);
    expect(point?.rates['blossom_saga_outcomes_total{outcome="confirmed"}']).toBeGreaterThan(0);
    expect(point?.rates['blossom_saga_outcomes_total{outcome="cancelled"}']).toBeUndefined();
    expect(point?.histograms['blossom_checkout_duration_seconds{outcome="confirmed"}']?.p50).toBeGreaterThan(
      0.25,
    );

    // Nothing new: a point with no traffic; `since` returns only later points.
    await history.sample();
    const points = history.points();
    expect(points).toHaveLength(2);
    expect(points[1]?.requests).toMatchObject({ rate: 0, p50Ms: null });
    expect(history.points(points[0]?.time)).toEqual([points[1]]);
  });

  it("keeps each event type's delivery delay with its bucket counts, which add up across points", async () => {
    const metrics = new ServiceMetrics({ service: "inventory" });
    const placed = "orders.order-placed.v1";
    metrics.expectEvents({ consumed: [placed, "payments.payment-authorized.v1"] });
    const history = new MetricsHistory({ registry: metrics.registry, intervalMs: 1000 });
    await history.sample();
    const now = Date.now();
    const delivered = (delayMs: number) =>
      metrics.eventDelivered(placed, new Date(now - delayMs).toISOString(), now);
    for (let n = 0; n < 19; n++) delivered(3);
    delivered(7_000);
    await history.sample();
    delivered(40);
    await history.sample();

    const [first, second] = history.points();
    const key = `blossom_event_delivery_delay_seconds{event_type="${placed}"}`;
    const delay = first?.histograms[key];
    expect(delay?.rate).toBeCloseTo(20 / (first?.intervalSeconds ?? 1), 0);
    expect(delay?.p50).toBeGreaterThan(0.0025);
    expect(delay?.p50).toBeLessThanOrEqual(0.005);
    expect(delay?.p99).toBeGreaterThan(5);
    // Sparse, each non-empty bucket after its lower bound: (2.5 ms, 5 ms] and (5 s, 10 s].
    expect(delay?.buckets).toEqual({ "0.0025": 0, "0.005": 19, "5": 0, "10": 1 });
    // Only the series that recorded something: not the other type, started at zero.
    expect(Object.keys(first?.histograms ?? {})).toEqual([key]);
    expect(second?.histograms[key]?.buckets).toEqual({ "0.025": 0, "0.05": 1 });
    expect(second?.histograms[key]?.p95).toBeGreaterThan(0.025);
  });

  it("keeps only the history's length of points; its timer stops", async () => {
    const metrics = new ServiceMetrics({ service: "gateway" });
    const history = new MetricsHistory({ registry: metrics.registry, intervalMs: 1000, historyMs: 3000 });
    for (let n = 0; n < 6; n++) await history.sample();
    expect(history.points()).toHaveLength(3);
    history.start();
    await history.stop();
  });

  it("interpolates quantiles inside buckets as Prometheus does", () => {
    const buckets = new Map([
      [0.1, 50],
      [0.5, 100],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    expect(bucketQuantile(0.5, { buckets, count: 100 })).toBeCloseTo(0.1);
    expect(bucketQuantile(0.75, { buckets, count: 100 })).toBeCloseTo(0.3);
    expect(bucketQuantile(0.5, { buckets: new Map(), count: 0 })).toBeNull();
  });
});
