import { describe, expect, it } from "vitest";
import { addBuckets, type BucketCounts, bucketsQuantile } from "./metrics.js";

describe("bucket counts of the metrics history", () => {
  it("add up over points and instances, then give the quantile of the whole window", () => {
    // Two instances' points, sparse as the history writes them (each non-empty bucket after its
    // lower bound): 19 deliveries in (2.5 ms, 5 ms], one in (5 s, 10 s], one in (25 ms, 50 ms].
    const window: BucketCounts = {};
    addBuckets(window, { "0.0025": 0, "0.005": 10, "5": 0, "10": 1 });
    addBuckets(window, { "0.0025": 0, "0.005": 9 });
    addBuckets(window, { "0.025": 0, "0.05": 1 });
    expect(window).toEqual({ "0.0025": 0, "0.005": 19, "0.025": 0, "0.05": 1, "5": 0, "10": 1 });
    // Rank 10.5 of 21, inside (2.5 ms, 5 ms]: interpolated as Prometheus' histogram_quantile does.
    expect(bucketsQuantile(0.5, window)).toBeCloseTo(0.0025 + 0.0025 * (10.5 / 19), 9);
    // Rank 19.95: the 20th delivery, in (25 ms, 50 ms].
    expect(bucketsQuantile(0.95, window)).toBeCloseTo(0.025 + 0.025 * 0.95, 9);
    expect(bucketsQuantile(0.99, window)).toBeGreaterThan(5);
  });

  it("say null when nothing was recorded, and the highest bound for what is above it", () => {
    expect(bucketsQuantile(0.95, {})).toBeNull();
    expect(bucketsQuantile(0.95, { "60": 0, "+Inf": 3 })).toBe(60);
  });
});
