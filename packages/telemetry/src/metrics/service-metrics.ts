import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { httpLabels } from "./http-labels.js";
import { processMetrics } from "./process-metrics.js";

/** Buckets of the request histogram: 5 ms to 10 s, what an API answer can reasonably take. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Buckets of the event delivery delay: 1 ms (published at commit, handed over at once by the
 * memory bus) to 60 s (a consumer far behind, or back from a restart); beyond is `+Inf`.
 */
export const DELIVERY_DELAY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** Label sets of the request histogram whose child handle is kept (a bound on a bound). */
const MAX_CACHED_LABEL_SETS = 1024;

/** What became of one delivery handed to a consumer. */
export type ConsumeOutcome = "handled" | "duplicate" | "failed";

/** A circuit breaker state as `ServiceClient.stats()` reports it. */
export type BreakerStateName = "closed" | "half-open" | "open";

/** The gauge value of each breaker state: higher is worse, so `max()` over instances makes sense. */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerStateName, number>> = {
  closed: 0,
  "half-open": 1,
  open: 2,
};

export interface UpstreamBreaker {
  /** The upstream service's name (bounded: the platform's services). */
  upstream: string;
  state: BreakerStateName;
}

export interface ServiceMetricsOptions {
  /** The runnable's name, added to every series as the `service` label. */
  service: string;
}

/**
 * The metrics of one runnable (a service or the gateway): its own prom-client `Registry`, so
 * that in the embedded topology, where every service shares one process, each serves only its
 * own series on its own port. Every series carries `service`; Prometheus adds `instance` (the
 * scraped address) itself — exposing one here would clash with it.
 *
 * Labels only ever take values from small fixed sets (route templates, contract names, service
 * names, outcomes): never an id, an email or a raw URL.
 */
export class ServiceMetrics {
  readonly service: string;
  readonly registry: Registry;
  readonly #httpDuration: Histogram<"method" | "route" | "status_class">;
  // One child per label set, made on its first request: labels are bounded (see above), and
  // building and validating the label object on every request was a per-request cost.
  readonly #httpDurationByLabels = new Map<string, { observe(seconds: number): void }>();
  readonly #published: Counter<"event_type">;
  readonly #consumed: Counter<"event_type" | "outcome">;
  readonly #redelivered: Counter<"event_type">;
  readonly #deadLettered: Counter<"event_type">;
  readonly #deliveryDelay: Histogram<"event_type">;
  readonly #deadLettersDropped: Counter<"consumer">;

  constructor(options: ServiceMetricsOptions) {
    this.service = options.service;
    this.registry = new Registry();
    const registers = [this.registry];
    this.#httpDuration = new Histogram({
      name: "http_server_request_duration_seconds",
      help: "Duration of HTTP requests served, by method, route template and status class.",
      labelNames: ["method", "route", "status_class"],
      buckets: HTTP_DURATION_BUCKETS,
      registers,
    });
    this.#published = new Counter({
      name: "blossom_events_published_total",
      help: "Events the outbox relay published to the bus (accepted by the bus), by event type.",
      labelNames: ["event_type"],
      registers,
    });
    this.#consumed = new Counter({
      name: "blossom_events_consumed_total",
      help: "Event deliveries this service's consumer finished: handled, duplicate (inbox) or failed.",
      labelNames: ["event_type", "outcome"],
      registers,
    });
    this.#redelivered = new Counter({
      name: "blossom_events_redelivered_total",
      help: "Deliveries that were a second or later attempt at the same event.",
      labelNames: ["event_type"],
      registers,
    });
    this.#deadLettered = new Counter({
      name: "blossom_events_dead_lettered_total",
      help: "Events this service's consumer gave up on and moved to the dead letters.",
      labelNames: ["event_type"],
      registers,
    });
    // Lag per event type, on every bus alike: the consumer-lag gauge is a count per consumer
    // (JetStream keeps pending per durable, not per subject); this is how late each type arrives.
    this.#deliveryDelay = new Histogram({
      name: "blossom_event_delivery_delay_seconds",
      help: "Time from an event occurring (its envelope's time) to this service's consumer starting to handle its first delivery, by event type.",
      labelNames: ["event_type"],
      buckets: DELIVERY_DELAY_BUCKETS,
      registers,
    });
    this.#deadLettersDropped = new Counter({
      name: "blossom_dead_letters_dropped_total",
      help: "Dead letters the memory bus dropped, the oldest first, to keep a consumer's within its bounds.",
      labelNames: ["consumer"],
      registers,
    });
  }

  /** Records one HTTP request (`routeTemplate` undefined for a request no route matched). */
  observeRequest(
    method: string,
    routeTemplate: string | undefined,
    statusCode: number,
    seconds: number,
  ): void {
    const key = `${method} ${statusCode} ${routeTemplate ?? ""}`;
    let child = this.#httpDurationByLabels.get(key);
    if (child === undefined) {
      child = this.#httpDuration.labels(httpLabels(method, routeTemplate, statusCode));
      // Keyed by the status code, so bounded by the codes a server answers with (a few dozen).
      if (this.#httpDurationByLabels.size < MAX_CACHED_LABEL_SETS) this.#httpDurationByLabels.set(key, child);
    }
    child.observe(seconds);
  }

  /**
   * Starts the event series of the contracts this service publishes and consumes at zero, so
   * that `rate()` and `increase()` see them from the first scrape rather than from the first event.
   */
  expectEvents(types: { published?: Iterable<string>; consumed?: Iterable<string> }): void {
    for (const type of types.published ?? []) this.#published.inc({ event_type: type }, 0);
    for (const type of types.consumed ?? []) {
      for (const outcome of ["handled", "duplicate", "failed"] as const)
        this.#consumed.inc({ event_type: type, outcome }, 0);
      this.#redelivered.inc({ event_type: type }, 0);
      this.#deadLettered.inc({ event_type: type }, 0);
      this.#deliveryDelay.zero({ event_type: type });
    }
  }

  eventPublished(type: string): void {
    this.#published.inc({ event_type: type });
  }

  eventConsumed(type: string, outcome: ConsumeOutcome, attempt: number): void {
    this.#consumed.inc({ event_type: type, outcome });
    if (attempt > 1) this.#redelivered.inc({ event_type: type });
  }

  /**
   * Records how late a delivery reached the consumer: `now` minus the envelope's `time` (when the
   * publisher wrote the event to its outbox, so the relay's wait counts too). Call it as handling
   * starts, for first attempts only: a redelivery's wait is the backoff, counted as a redelivery.
   * Not for a replayed dead letter either: its envelope keeps its first time, so its whole age
   * would count (`DeliveryInfo.replayed`; it still counts as consumed). Another machine's
   * clock can be ahead: a negative delay counts as 0; an unreadable time is not recorded.
   */
  eventDelivered(type: string, occurredAt: string, now: number = Date.now()): void {
    const occurred = Date.parse(occurredAt);
    if (Number.isNaN(occurred)) return;
    this.#deliveryDelay.observe({ event_type: type }, Math.max(0, (now - occurred) / 1000));
  }

  eventDeadLettered(type: string): void {
    this.#deadLettered.inc({ event_type: type });
  }

  /** Counts the oldest dead letters of `consumer` the memory bus dropped (past its bounds). */
  deadLettersDropped(consumer: string, count: number): void {
    this.#deadLettersDropped.inc({ consumer }, count);
  }

  /**
   * Reports the outbox rows not yet published, read at each scrape (a cheap count on an indexed
   * column). A failed read keeps the last value rather than failing the whole scrape.
   */
  watchOutboxBacklog(read: () => Promise<number>): void {
    this.#scrapedGauge(
      "blossom_outbox_backlog",
      "Outbox events written but not yet published to the bus.",
      read,
    );
  }

  /**
   * Reports the events owed to this service's consumer and not yet acknowledged, read at each
   * scrape (memory bus: deliveries queued or in flight; NATS: the durable's pending and
   * unacknowledged messages).
   */
  watchConsumerLag(read: () => Promise<number>): void {
    this.#scrapedGauge(
      "blossom_consumer_lag",
      "Events owed to this service's consumer and not yet acknowledged.",
      read,
    );
  }

  /** Reports the circuit breaker of each upstream this runnable calls, read at each scrape. */
  watchUpstreams(read: () => Iterable<UpstreamBreaker>): void {
    new Gauge({
      name: "blossom_circuit_breaker_state",
      help: "Circuit breaker state of an upstream as a whole: 0 closed, 1 half-open, 2 open.",
      labelNames: ["upstream"],
      registers: [this.registry],
      collect() {
        for (const { upstream, state } of read()) this.set({ upstream }, BREAKER_STATE_VALUE[state]);
      },
    });
  }

  /** The exposition content type (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text Prometheus scrapes: this service's series and the process's, labelled `service`. */
  async exposition(): Promise<string> {
    // Merged per scrape, so that families a service registers later (its domain metrics) appear too.
    const merged = Registry.merge([this.registry, processMetrics()]);
    merged.setDefaultLabels({ service: this.service });
    return merged.metrics();
  }

  #scrapedGauge(name: string, help: string, read: () => Promise<number>): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        try {
          this.set(await read());
        } catch {
          // The database or bus is unavailable (the service is stopping): readiness reports that;
          // the scrape still answers with the last value.
        }
      },
    });
  }
}
