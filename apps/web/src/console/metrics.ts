/**
 * Platform-wide figures from `GET /api/ops/metrics`: every instance's points grouped by their
 * 5 s slot (instances sample on their own clocks), then summed (or counted) per slot.
 * Series keys are `name{label="value",…}` with the labels sorted, as the metrics history writes them.
 */
import type { MetricsPoint, Series } from "./types.js";

/** The 5 s slot of a point's time: points of different instances in one slot are one moment. */
export function slotOf(time: string): number {
  return Math.floor(Date.parse(time) / 5000);
}

/** Points of `series` (all instances, or one service's) grouped by their 5 s slot, oldest first. */
export function slots(series: Series[], service?: string): MetricsPoint[][] {
  const byTime = new Map<number, MetricsPoint[]>();
  for (const one of series) {
    if (service !== undefined && one.service !== service) continue;
    for (const point of one.points) {
      const slot = slotOf(point.time);
      const list = byTime.get(slot);
      if (list) list.push(point);
      else byTime.set(slot, [point]);
    }
  }
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([, points]) => points);
}

/** The labels of a series key (`name{a="1",b="2"}`), or undefined when its name is not `name`. */
export function parseKey(key: string, name: string): Record<string, string> | undefined {
  if (key === name) return {};
  if (!key.startsWith(`${name}{`) || !key.endsWith("}")) return undefined;
  const labels: Record<string, string> = {};
  for (const match of key.slice(name.length + 1, -1).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
    labels[match[1] as string] = match[2] as string;
  return labels;
}

type Labels = Record<string, string>;
const matches = (labels: Labels, want: Labels) =>
  Object.entries(want).every(([label, value]) => labels[label] === value);

/** Per slot: the sum over instances of a counter's rate (per second) for the series matching `want`. */
export function rateSum(all: MetricsPoint[][], name: string, want: Labels = {}): number[] {
  return all.map((points) =>
    points.reduce((sum, point) => {
      let total = sum;
      for (const [key, value] of Object.entries(point.rates)) {
        const labels = parseKey(key, name);
        if (labels && matches(labels, want)) total += value;
      }
      return total;
    }, 0),
  );
}

/** How many times a counter moved over the points (rate × interval, summed), matching `want`. */
export function countOver(series: Series[], name: string, want: Labels = {}, service?: string): number {
  let total = 0;
  for (const one of series) {
    if (service !== undefined && one.service !== service) continue;
    for (const point of one.points)
      for (const [key, value] of Object.entries(point.rates)) {
        const labels = parseKey(key, name);
        if (labels && matches(labels, want)) total += value * point.intervalSeconds;
      }
  }
  return Math.round(total);
}

/** Per slot: the sum over instances of a gauge (null where no instance reported it). */
export function gaugeSum(all: MetricsPoint[][], name: string): Array<number | null> {
  return all.map((points) => {
    let total: number | null = null;
    for (const point of points)
      for (const [key, value] of Object.entries(point.gauges))
        if (parseKey(key, name)) total = (total ?? 0) + value;
    return total;
  });
}

/** Per slot: how many gauge series (over all instances) had exactly `value` (null: none reported). */
export function gaugeCount(all: MetricsPoint[][], name: string, value: number): Array<number | null> {
  return all.map((points) => {
    let count: number | null = null;
    for (const point of points)
      for (const [key, seen] of Object.entries(point.gauges))
        if (parseKey(key, name)) count = (count ?? 0) + (seen === value ? 1 : 0);
    return count;
  });
}

/** Per slot: the highest of a histogram's quantile over its series and instances (null: nothing recorded). */
export function histogramMax(
  all: MetricsPoint[][],
  name: string,
  quantile: "p50" | "p95" | "p99",
): Array<number | null> {
  return all.map((points) => {
    let worst: number | null = null;
    for (const point of points)
      for (const [key, figures] of Object.entries(point.histograms)) {
        const value = figures[quantile];
        if (parseKey(key, name) && value !== null && (worst === null || value > worst)) worst = value;
      }
    return worst;
  });
}

/** The last value that is not null. */
export function lastValue(values: Array<number | null>): number | null {
  for (let index = values.length - 1; index >= 0; index--) {
    const value = values[index];
    if (value !== null && value !== undefined) return value;
  }
  return null;
}

/** A histogram's observations per bucket, keyed by upper bound `le`, sparse (see `HistogramFigures`). */
export type BucketCounts = Record<string, number>;

/** Adds `from`'s counts into `into` (over points, slots or instances: counts add up, quantiles do not). */
export function addBuckets(into: BucketCounts, from: BucketCounts): void {
  for (const [le, count] of Object.entries(from)) into[le] = (into[le] ?? 0) + count;
}

/**
 * Prometheus' histogram_quantile over summed bucket counts, as the metrics history computes
 * each point's (packages/telemetry `bucketQuantile`; copied: the console ships none of its code).
 * The sparse form keeps each non-empty bucket's lower bound as a key, so the previous key is the
 * bucket's lower bound. Null when nothing was recorded.
 */
export function bucketsQuantile(q: number, counts: BucketCounts): number | null {
  const bounds = Object.entries(counts)
    .map(([le, count]) => [le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), count] as const)
    .filter(([bound]) => !Number.isNaN(bound))
    .sort((a, b) => a[0] - b[0]);
  const total = bounds.reduce((sum, [, count]) => sum + count, 0);
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [bound, count] of bounds) {
    if (count > 0 && below + count >= rank) {
      if (bound === Number.POSITIVE_INFINITY) return lower;
      return lower + (bound - lower) * ((rank - below) / count);
    }
    lower = bound;
    below += count;
  }
  return lower;
}
