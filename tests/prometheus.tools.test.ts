import { callHttp, eventually } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUNNABLE_NAMES } from "../apps/blossom/src/topology.js";
import { startTestPlatform, type TestPlatform } from "./support/embedded-platform.js";
import { type RunningPrometheus, startPrometheus } from "./support/prometheus.js";
import { ShopClient } from "./support/shop-client.js";

/** The single value of an instant query, or undefined while Prometheus has no sample for it. */
async function scalar(prometheus: RunningPrometheus, promql: string): Promise<number | undefined> {
  const result = await prometheus.query(promql);
  return result[0] ? Number(result[0].value[1]) : undefined;
}

describe("a real Prometheus scraping the embedded platform", () => {
  let platform: TestPlatform;
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    platform = await startTestPlatform();
    prometheus = await startPrometheus(
      RUNNABLE_NAMES.map((service) => ({
        service,
        address: new URL(platform.metricsUrls.get(service) ?? "").host,
      })),
    );
  }, 120_000);
  afterAll(async () => {
    await prometheus?.stop();
    await platform?.destroy();
  });

  it("scrapes every runnable: up is 1 for each target", async () => {
    const up = await eventually(
      async () => {
        const result = await prometheus.query('up{job="blossom"}');
        return result.length === RUNNABLE_NAMES.length && result.every((sample) => sample.value[1] === "1")
          ? result
          : undefined;
      },
      20_000,
      "every target up",
    );
    expect(up.map((sample) => sample.metric.service).sort()).toEqual([...RUNNABLE_NAMES].sort());
  });

  it("sees a checkout through the gateway move the saga, HTTP, bus and reservation metrics", async () => {
    const ann = await ShopClient.signUp(platform.gateway, "Ann");
    const card = await ann.addCard();
    const products = await callHttp<{ items: Array<{ id: string }> }>(
      platform.gateway,
      "GET",
      "/api/inventory/products?q=lamp",
    );
    const productId = products.body.items[0]?.id ?? "";
    const placed = await ann.placeOrder([{ productId, quantity: 1 }], card);
    expect(placed.status).toBe(202);
    expect((await ann.settled(placed.body.id)).status).toBe("confirmed");

    // Polled against a deadline: Prometheus sees the change at its next 1 s scrape.
    const confirmed = await eventually(
      async () => {
        const value = await scalar(prometheus, 'sum(blossom_saga_outcomes_total{outcome="confirmed"})');
        return value !== undefined && value >= 1 ? value : undefined;
      },
      20_000,
      "a confirmed checkout in Prometheus",
    );
    expect(confirmed).toBe(1);
    const checks: Array<[string, (value: number) => boolean]> = [
      [
        'sum(http_server_request_duration_seconds_count{service="orders",route="/api/orders",method="POST"})',
        (v) => v >= 1,
      ],
      ['sum(http_server_request_duration_seconds_count{service="orders"})', (v) => v > 0],
      [
        'sum(http_server_request_duration_seconds_count{service="gateway",status_class="2xx"})',
        (v) => v >= 4,
      ],
      ['sum(blossom_checkout_duration_seconds_count{outcome="confirmed"})', (v) => v === 1],
      [
        'sum(blossom_events_published_total{service="orders",event_type="orders.order-placed.v1"})',
        (v) => v >= 1,
      ],
      [
        'sum(blossom_events_consumed_total{service="inventory",event_type="orders.order-placed.v1",outcome="handled"})',
        (v) => v >= 1,
      ],
      ['sum(blossom_stock_reservations_total{outcome="reserved"})', (v) => v >= 1],
      ['sum(blossom_stock_reservations_total{outcome="committed"})', (v) => v >= 1],
    ];
    for (const [promql, holds] of checks) {
      await eventually(
        async () => {
          const value = await scalar(prometheus, promql);
          return value !== undefined && holds(value) ? value : undefined;
        },
        20_000,
        promql,
      );
    }
    // Nothing left behind once the checkout settled: the outbox drains (a scrape may still catch
    // the last events of the saga on their way, so it is awaited), and every breaker is closed.
    await eventually(
      async () => ((await scalar(prometheus, "max(blossom_outbox_backlog)")) === 0 ? true : undefined),
      20_000,
      "an empty outbox in Prometheus",
    );
    expect(await scalar(prometheus, "max(blossom_circuit_breaker_state)")).toBe(0);
  });
});
