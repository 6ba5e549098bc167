import type { Registry } from "prom-client";
import { processMetrics } from "./process-metrics.js";

/** Defaults: a point every 5 s, 15 minutes kept (180 points). */
export const DEFAULT_SAMPLE_INTERVAL_MS = 5_000;
export const DEFAULT_HISTORY_MS = 15 * 60_000;

const HTTP_HISTOGRAM = "http_server_request_duration_seconds";
/** The process figures worth a chart (the rest of the default collectors' are not sampled). */
const PROCESS_SERIES = new Set([
  "process_cpu_seconds_total",
  "process_resident_memory_bytes",
  "nodejs_heap_size_used_bytes",
  "nodejs_eventloop_lag_p99_seconds",
  "nodejs_active_handles_total",
]);

/** Request figures of one route (or of all), over one sampling interval. */
export interface RequestFigures {
  /** Requests per second. */
  rate: number;
  /** Answers with a 5xx status per second. */
  errorRate: number;
  /** Latency quantiles in milliseconds (interpolated in the histogram's buckets); null: no request. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export interface RouteFigures extends RequestFigures {
  method: string;
  /** The route template (`/api/orders/:id`), `unmatched` for a 404 no route took. */
  route: string;
}

/** What another histogram (checkout duration, event delivery delay) recorded in the interval, in seconds. */
export interface HistogramFigures {
  rate: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /**
   * Observations in the interval per bucket (not cumulative), keyed by the bucket's upper bound
   * as Prometheus writes `le` (`"0.005"`, `"+Inf"`); empty buckets are left out, except the one
   * just below a non-empty one (with 0: its lower bound, to interpolate in). Quantiles of
   * intervals cannot be combined, counts can: summed over points and instances they give a
   * quantile over 15 minutes and every replica (as `bucketQuantile` does).
   */
  buckets: Record<string, number>;
}

/** One sample: the change since the previous one, as rates, and the gauges' values. */
export interface MetricsPoint {
  time: string;
  /** Seconds since the previous sample. */
  intervalSeconds: number;
  requests: RequestFigures;
  routes: RouteFigures[];
  /** Each counter series that moved, per second, keyed `name{label="value",…}`; absent = 0. */
  rates: Record<string, number>;
  /** Each gauge series' value (outbox backlog, consumer lag, breaker states 0/1/2, memory…). */
  gauges: Record<string, number>;
  /** Each other histogram series that recorded something, keyed like `rates`. */
  histograms: Record<string, HistogramFigures>;
}

export interface MetricsHistoryOptions {
  /** The registry sampled (a `ServiceMetrics.registry`): its series, plus a few of the process's. */
  registry: Registry;
  intervalMs?: number;
  historyMs?: number;
}

interface Histogram {
  buckets: Map<number, number>;
  count: number;
}

interface Snapshot {
  at: number;
  counters: Map<string, number>;
  histograms: Map<string, Histogram>;
  http: Map<string, Histogram & { method: string; route: string; errors: number }>;
}

/**
 * An in-process ring of one runnable's recent metrics: every `intervalMs` the registry is read
 * (as a Prometheus scrape would, gauges' collect callbacks included) and the change since the
 * previous read is kept as one point (rates, latency quantiles, gauge values), `historyMs` of
 * them. What the operations console charts without a Prometheus. Its timer is unref()ed;
 * `stop()` clears it. A failed read is skipped (the next one spans both intervals).
 */
export class MetricsHistory {
  readonly #registry: Registry;
  readonly #intervalMs: number;
  readonly #maxPoints: number;
  readonly #points: MetricsPoint[] = [];
  #previous: Snapshot | undefined;
  #timer: NodeJS.Timeout | undefined;
  #sampling: Promise<void> | undefined;

  constructor(options: MetricsHistoryOptions) {
    this.#registry = options.registry;
    this.#intervalMs = options.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
    this.#maxPoints = Math.max(1, Math.ceil((options.historyMs ?? DEFAULT_HISTORY_MS) / this.#intervalMs));
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Takes a first reading now and one every interval after. Idempotent. */
  start(): void {
    if (this.#timer) return;
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops sampling and waits for a reading in flight. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sampling;
  }

  /** The points after `since` (ISO 8601; all when unset), oldest first. */
  points(since?: string): MetricsPoint[] {
    const after = since ? Date.parse(since) : Number.NaN;
    if (Number.isNaN(after)) return [...this.#points];
    return this.#points.filter((point) => Date.parse(point.time) > after);
  }

  /** Reads the registry once and, after the first reading, keeps a point. */
  sample(): Promise<void> {
    this.#sampling ??= this.#read().finally(() => {
      this.#sampling = undefined;
    });
    return this.#sampling;
  }

  async #read(): Promise<void> {
    let families: Family[];
    try {
      const [own, shared] = await Promise.all([
        this.#registry.getMetricsAsJSON(),
        processMetrics().getMetricsAsJSON(),
      ]);
      families = [
        ...(own as unknown as Family[]),
        ...(shared as unknown as Family[]).filter((family) => PROCESS_SERIES.has(family.name)),
      ];
    } catch {
      return;
    }
    const at = Date.now();
    const snapshot: Snapshot = { at, counters: new Map(), histograms: new Map(), http: new Map() };
    const gauges: Record<string, number> = {};
    for (const family of families) {
      if (family.type === "counter") {
        for (const value of family.values)
          snapshot.counters.set(seriesKey(family.name, value.labels), value.value);
      } else if (family.type === "gauge") {
        for (const value of family.values) gauges[seriesKey(family.name, value.labels)] = value.value;
      } else if (family.type === "histogram") {
        readHistogram(family, snapshot);
      }
    }
    const previous = this.#previous;
    this.#previous = snapshot;
    if (!previous) return;
    const seconds = Math.max((at - previous.at) / 1000, 0.001);
    this.#points.push({
      time: new Date(at).toISOString(),
      intervalSeconds: Math.round(seconds * 1000) / 1000,
      ...requestFigures(snapshot, previous, seconds),
      rates: counterRates(snapshot, previous, seconds),
      gauges,
      histograms: histogramFigures(snapshot, previous, seconds),
    });
    if (this.#points.length > this.#maxPoints) this.#points.splice(0, this.#points.length - this.#maxPoints);
  }
}

interface Family {
  name: string;
  type: string;
  values: { labels: Record<string, string | number>; value: number; metricName?: string }[];
}

function seriesKey(name: string, labels: Record<string, string | number>, omit?: string): string {
  const parts = Object.keys(labels)
    .filter((label) => label !== omit)
    .sort()
    .map((label) => `${label}="${labels[label]}"`);
  return parts.length ? `${name}{${parts.join(",")}}` : name;
}

function readHistogram(family: Family, snapshot: Snapshot): void {
  const http = family.name === HTTP_HISTOGRAM;
  for (const value of family.values) {
    const isBucket = value.metricName === `${family.name}_bucket`;
    const isCount = value.metricName === `${family.name}_count`;
    if (!isBucket && !isCount) continue;
    if (http) {
      const method = String(value.labels.method ?? "");
      const route = String(value.labels.route ?? "");
      const key = `${method} ${route}`;
      let entry = snapshot.http.get(key);
      if (!entry) {
        entry = { method, route, buckets: new Map(), count: 0, errors: 0 };
        snapshot.http.set(key, entry);
      }
      if (isCount) {
        entry.count += value.value;
        if (value.labels.status_class === "5xx") entry.errors += value.value;
      } else addBucket(entry.buckets, value.labels.le, value.value);
    } else {
      const key = seriesKey(family.name, value.labels, "le");
      let entry = snapshot.histograms.get(key);
      if (!entry) {
        entry = { buckets: new Map(), count: 0 };
        snapshot.histograms.set(key, entry);
      }
      if (isCount) entry.count += value.value;
      else addBucket(entry.buckets, value.labels.le, value.value);
    }
  }
}

function addBucket(buckets: Map<number, number>, le: string | number | undefined, count: number): void {
  const bound = le === "+Inf" || le === undefined ? Number.POSITIVE_INFINITY : Number(le);
  buckets.set(bound, (buckets.get(bound) ?? 0) + count);
}

/** Counter growth since the previous reading; a counter that went down restarted from zero. */
function growth(now: number, before: number | undefined): number {
  const delta = now - (before ?? 0);
  return delta < 0 ? now : delta;
}

function delta(now: Histogram, before: Histogram | undefined): Histogram {
  const buckets = new Map<number, number>();
  for (const [bound, count] of now.buckets) buckets.set(bound, growth(count, before?.buckets.get(bound)));
  return { buckets, count: growth(now.count, before?.count) };
}

/** Prometheus' histogram_quantile: linear interpolation inside the bucket that holds the rank. */
export function bucketQuantile(q: number, histogram: Histogram): number | null {
  if (histogram.count <= 0) return null;
  const bounds = [...histogram.buckets.keys()].sort((a, b) => a - b);
  const rank = q * histogram.count;
  let lower = 0;
  let below = 0;
  for (const bound of bounds) {
    const cumulative = histogram.buckets.get(bound) ?? 0;
    if (cumulative >= rank) {
      if (bound === Number.POSITIVE_INFINITY) return lower;
      const inBucket = cumulative - below;
      return inBucket <= 0 ? bound : lower + (bound - lower) * ((rank - below) / inBucket);
    }
    lower = bound;
    below = cumulative;
  }
  return lower;
}

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;
const ms = (seconds: number | null) => (seconds === null ? null : round(seconds * 1000, 1));

function figures(histogram: Histogram, errors: number, seconds: number): RequestFigures {
  return {
    rate: round(histogram.count / seconds),
    errorRate: round(errors / seconds),
    p50Ms: ms(bucketQuantile(0.5, histogram)),
    p95Ms: ms(bucketQuantile(0.95, histogram)),
    p99Ms: ms(bucketQuantile(0.99, histogram)),
  };
}

function requestFigures(
  now: Snapshot,
  before: Snapshot,
  seconds: number,
): Pick<MetricsPoint, "requests" | "routes"> {
  const total: Histogram = { buckets: new Map(), count: 0 };
  let totalErrors = 0;
  const routes: RouteFigures[] = [];
  for (const [key, entry] of now.http) {
    const previous = before.http.get(key);
    const change = delta(entry, previous);
    if (change.count === 0) continue;
    const errors = growth(entry.errors, previous?.errors);
    total.count += change.count;
    totalErrors += errors;
    for (const [bound, count] of change.buckets)
      total.buckets.set(bound, (total.buckets.get(bound) ?? 0) + count);
    routes.push({ method: entry.method, route: entry.route, ...figures(change, errors, seconds) });
  }
  routes.sort((a, b) => b.rate - a.rate);
  return { requests: figures(total, totalErrors, seconds), routes };
}

function counterRates(now: Snapshot, before: Snapshot, seconds: number): Record<string, number> {
  const rates: Record<string, number> = {};
  for (const [key, value] of now.counters) {
    const change = growth(value, before.counters.get(key));
    if (change > 0) rates[key] = round(change / seconds);
  }
  return rates;
}

function histogramFigures(
  now: Snapshot,
  before: Snapshot,
  seconds: number,
): Record<string, HistogramFigures> {
  const result: Record<string, HistogramFigures> = {};
  for (const [key, entry] of now.histograms) {
    const change = delta(entry, before.histograms.get(key));
    if (change.count === 0) continue;
    result[key] = {
      rate: round(change.count / seconds),
      p50: round(bucketQuantile(0.5, change) ?? 0),
      p95: round(bucketQuantile(0.95, change) ?? 0),
      p99: round(bucketQuantile(0.99, change) ?? 0),
      buckets: bucketCounts(change),
    };
  }
  return result;
}

/**
 * The non-empty buckets of an interval's (cumulative) histogram, as counts per bucket. Each is
 * preceded by its lower bound (the bucket below, with 0 when it is empty), so that a reader of
 * the sparse form interpolates inside a bucket as `bucketQuantile` does on the whole histogram.
 */
function bucketCounts(histogram: Histogram): Record<string, number> {
  const counts: Record<string, number> = {};
  let below = 0;
  let lower: string | undefined;
  for (const bound of [...histogram.buckets.keys()].sort((a, b) => a - b)) {
    const le = bound === Number.POSITIVE_INFINITY ? "+Inf" : String(bound);
    const cumulative = histogram.buckets.get(bound) ?? 0;
    // Kept sparse: a point of the ring holds a few buckets, not all of them (bounded memory).
    if (cumulative > below) {
      if (lower !== undefined) counts[lower] ??= 0;
      counts[le] = cumulative - below;
    }
    below = Math.max(below, cumulative);
    lower = le;
  }
  return counts;
}
