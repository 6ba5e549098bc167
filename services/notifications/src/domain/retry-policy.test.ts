import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "./cursor.js";
import { DEFAULT_PREFERENCES, enabledChannels } from "./preferences.js";
import { afterFailure, DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry-policy.js";

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 5000, jitter: 0.2 };

describe("retry policy", () => {
  it("doubles the delay after each failed attempt, up to the cap", () => {
    expect([1, 2, 3, 4].map((attempts) => afterFailure(policy, attempts))).toEqual([
      { retry: true, delayMs: 1000 },
      { retry: true, delayMs: 2000 },
      { retry: true, delayMs: 4000 },
      { retry: true, delayMs: 5000 },
    ]);
  });

  it("gives up after the last attempt, or at once on a permanent failure", () => {
    expect(afterFailure(policy, 5)).toEqual({ retry: false });
    expect(afterFailure(policy, 1, { permanent: true })).toEqual({ retry: false });
  });

  it("spreads the delay by the jitter", () => {
    expect(afterFailure(policy, 1, { random: 0 })).toEqual({ retry: true, delayMs: 800 });
    expect(afterFailure(policy, 1, { random: 0.999999 })).toEqual({ retry: true, delayMs: 1200 });
  });

  it("has sane defaults", () => {
    expect(DEFAULT_RETRY_POLICY.maxAttempts).toBeGreaterThan(1);
    expect(afterFailure(DEFAULT_RETRY_POLICY, 30)).toEqual({ retry: false });
  });
});

describe("preferences", () => {
  it("defaults to email only", () => {
    expect(DEFAULT_PREFERENCES).toEqual({ email: true, sms: false, push: false });
    expect(enabledChannels(DEFAULT_PREFERENCES)).toEqual(["email"]);
    expect(enabledChannels({ email: false, sms: true, push: true })).toEqual(["sms", "push"]);
    expect(enabledChannels({ email: false, sms: false, push: false })).toEqual([]);
  });
});

describe("list cursor", () => {
  it("round-trips a position and refuses anything else", () => {
    expect(decodeCursor(encodeCursor(42))).toBe(42);
    expect(decodeCursor("not-a-cursor")).toBeUndefined();
    expect(decodeCursor(Buffer.from('{"p":"1"}').toString("base64url"))).toBeUndefined();
    expect(decodeCursor(Buffer.from('{"p":-3}').toString("base64url"))).toBeUndefined();
  });
});
