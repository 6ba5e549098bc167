import { describe, expect, it } from "vitest";
import { UpstreamHttpError, UpstreamTimeoutError, UpstreamUnavailableError } from "./errors.js";
import { createRetryPolicy, isRetryable, isRetrySafe } from "./retry-policy.js";

const at = { upstream: "inventory", instance: "http://127.0.0.1:8082" };
const httpError = (status: number, retryAfterMs?: number) =>
  new UpstreamHttpError({
    ...at,
    method: "GET",
    path: "/x",
    status,
    body: undefined,
    headers: {},
    retryAfterMs,
  });

describe("retry policy", () => {
  it("knows which requests are safe to repeat", () => {
    for (const method of ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])
      expect(isRetrySafe(method, false)).toBe(true);
    expect(isRetrySafe("POST", false)).toBe(false);
    expect(isRetrySafe("PATCH", false)).toBe(false);
    expect(isRetrySafe("POST", true)).toBe(true);
  });

  it("retries what may succeed elsewhere, never a 4xx", () => {
    expect(isRetryable(httpError(503), true)).toBe(true);
    expect(isRetryable(httpError(503), false)).toBe(false);
    expect(isRetryable(httpError(500), true)).toBe(false);
    expect(isRetryable(httpError(429), true)).toBe(false);
    expect(isRetryable(new UpstreamTimeoutError({ ...at, timeoutMs: 10 }), true)).toBe(true);
    expect(isRetryable(new UpstreamTimeoutError({ ...at, timeoutMs: 10 }), false)).toBe(false);
    const refused = new UpstreamUnavailableError({ ...at, reason: "connect-failed" });
    expect(isRetryable(refused, false)).toBe(true);
    const lost = new UpstreamUnavailableError({ ...at, reason: "connection-lost" });
    expect(isRetryable(lost, false)).toBe(false);
    expect(isRetryable(lost, true)).toBe(true);
    expect(
      isRetryable(new UpstreamUnavailableError({ upstream: "inventory", reason: "all-circuits-open" }), true),
    ).toBe(false);
    expect(isRetryable(new Error("bug"), true)).toBe(false);
  });

  it("makes maxAttempts attempts in total and honours a Retry-After up to maxDelayMs", async () => {
    const policy = createRetryPolicy({ maxAttempts: 3, initialDelayMs: 1000, maxDelayMs: 5000 }, true);
    const delays: number[] = [];
    policy.onRetry(({ delay }) => delays.push(delay));
    let attempts = 0;
    await expect(
      policy.execute(() => {
        attempts++;
        throw httpError(503, 20);
      }),
    ).rejects.toMatchObject({ status: 503 });
    expect(attempts).toBe(3);
    expect(delays).toEqual([20, 20]);
  });

  it("falls back to jittered backoff, capped, when Retry-After exceeds maxDelayMs", async () => {
    const policy = createRetryPolicy({ maxAttempts: 2, initialDelayMs: 5, maxDelayMs: 30 }, true);
    const delays: number[] = [];
    policy.onRetry(({ delay }) => delays.push(delay));
    await expect(
      policy.execute(() => {
        throw httpError(503, 60_000);
      }),
    ).rejects.toBeInstanceOf(UpstreamHttpError);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeLessThanOrEqual(30);
  });
});
