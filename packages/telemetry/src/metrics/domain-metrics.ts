import { Counter, Histogram } from "prom-client";
import type { ServiceMetrics } from "./service-metrics.js";

/**
 * Domain metrics belong to the one service that records them (saga outcomes to orders, stock
 * reservations to inventory, rate limiting to the gateway): each family is registered on that
 * service's registry the first time the service asks for it, once, and its bounded label
 * values start at zero so that `rate()` works before the first event.
 */
function perService<T>(create: (metrics: ServiceMetrics) => T): (metrics: ServiceMetrics) => T {
  const cache = new WeakMap<ServiceMetrics, T>();
  return (metrics) => {
    let made = cache.get(metrics);
    if (made === undefined) {
      made = create(metrics);
      cache.set(metrics, made);
    }
    return made;
  };
}

export const SAGA_OUTCOMES = ["confirmed", "cancelled", "timed_out"] as const;
export type SagaOutcome = (typeof SAGA_OUTCOMES)[number];

/** Placed → settled: most checkouts settle in well under a second; the deadline is 30 s. */
export const CHECKOUT_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export interface SagaMetrics {
  /** Records how a checkout ended and, given when it was placed, how long it took. */
  settled(outcome: SagaOutcome, placedAt?: Date): void;
}

/** The checkout saga's outcomes and durations (orders). */
export const sagaMetrics = perService<SagaMetrics>((metrics) => {
  const registers = [metrics.registry];
  const outcomes = new Counter({
    name: "blossom_saga_outcomes_total",
    help: "Checkouts that ended, by outcome: confirmed, cancelled (stock, payment, customer) or timed_out.",
    labelNames: ["outcome"],
    registers,
  });
  const duration = new Histogram({
    name: "blossom_checkout_duration_seconds",
    help: "Time from an order being placed to its checkout settling, by outcome.",
    labelNames: ["outcome"],
    buckets: CHECKOUT_DURATION_BUCKETS,
    registers,
  });
  for (const outcome of SAGA_OUTCOMES) {
    outcomes.inc({ outcome }, 0);
    duration.zero({ outcome });
  }
  return {
    settled(outcome, placedAt) {
      outcomes.inc({ outcome });
      if (placedAt) duration.observe({ outcome }, Math.max(0, (Date.now() - placedAt.getTime()) / 1000));
    },
  };
});

export const RESERVATION_OUTCOMES = [
  "reserved",
  "rejected",
  "committed",
  "released",
  "restocked",
  "expired",
] as const;
export type ReservationOutcome = (typeof RESERVATION_OUTCOMES)[number];

export interface ReservationMetrics {
  recorded(outcome: ReservationOutcome, count?: number): void;
}

/** What became of stock reservations (inventory). */
export const reservationMetrics = perService<ReservationMetrics>((metrics) => {
  const reservations = new Counter({
    name: "blossom_stock_reservations_total",
    help: "Stock reservations by outcome: reserved, rejected (out of stock), committed, released, restocked, expired.",
    labelNames: ["outcome"],
    registers: [metrics.registry],
  });
  for (const outcome of RESERVATION_OUTCOMES) reservations.inc({ outcome }, 0);
  return {
    recorded(outcome, count = 1) {
      if (count > 0) reservations.inc({ outcome }, count);
    },
  };
});

export const RATE_LIMIT_ROUTE_CLASSES = ["api", "login"] as const;
export type RateLimitRouteClass = (typeof RATE_LIMIT_ROUTE_CLASSES)[number];

export interface RateLimitMetrics {
  rejected(routeClass: RateLimitRouteClass): void;
}

/** Requests the gateway refused with 429 (gateway). */
export const rateLimitMetrics = perService<RateLimitMetrics>((metrics) => {
  const rejections = new Counter({
    name: "blossom_rate_limit_rejections_total",
    help: "Requests refused with 429 by the gateway's rate limiter, by route class (api, login).",
    labelNames: ["route_class"],
    registers: [metrics.registry],
  });
  for (const routeClass of RATE_LIMIT_ROUTE_CLASSES) rejections.inc({ route_class: routeClass }, 0);
  return {
    rejected(routeClass) {
      rejections.inc({ route_class: routeClass });
    },
  };
});

export const GATEWAY_SHED_STAGES = ["door", "queue", "bulkhead"] as const;
export type GatewayShedStage = (typeof GATEWAY_SHED_STAGES)[number];

export interface GatewayShedMetrics {
  /** Starts the series of these upstreams at zero, so that `rate()` works before the first refusal. */
  expect(upstreams: Iterable<string>): void;
  shed(upstream: string, stage: GatewayShedStage): void;
}

/**
 * Requests the gateway refused with 503 without sending them (gateway): at the door (an
 * overloaded queue, before any stage), in the queue (waited past their budget) or at the
 * bulkhead (too many in flight).
 */
export const gatewayShedMetrics = perService<GatewayShedMetrics>((metrics) => {
  const shed = new Counter({
    name: "blossom_gateway_shed_total",
    help: "Requests the gateway refused with 503 before sending them upstream, by upstream and stage (door, queue, bulkhead).",
    labelNames: ["upstream", "stage"],
    registers: [metrics.registry],
  });
  return {
    expect(upstreams) {
      for (const upstream of upstreams)
        for (const stage of GATEWAY_SHED_STAGES) shed.inc({ upstream, stage }, 0);
    },
    shed(upstream, stage) {
      shed.inc({ upstream, stage });
    },
  };
});
