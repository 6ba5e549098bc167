import { describe, expect, it } from "vitest";
import { ProviderUnavailableError } from "../domain/payment-provider.js";
import { TEST_CARDS, TestPaymentProvider } from "./test-provider.js";

const USD = (amount: number) => ({ amount, currency: "USD" as const });
const card = (number: string) => ({ number, expMonth: 12, expYear: 2030, cvc: "123" });

describe("the test provider", () => {
  it("tokenizes without keeping any digit of the number", async () => {
    const provider = new TestPaymentProvider();
    const { token } = await provider.tokenize(card(TEST_CARDS.succeeds));
    expect(token).toMatch(/^tok_approve_[0-9a-f]{24}$/);
    expect(token).not.toContain("4242");
    const again = await provider.tokenize(card(TEST_CARDS.succeeds));
    expect(again.token).not.toBe(token);
  });

  it("approves 4242…, declines 4000…0002, and 4000…9995 for insufficient funds", async () => {
    const provider = new TestPaymentProvider();
    const authorize = async (number: string) =>
      provider.authorize((await provider.tokenize(card(number))).token, USD(100), `authorize:${number}`);
    expect(await authorize(TEST_CARDS.succeeds)).toEqual({
      outcome: "authorized",
      authorizationId: expect.stringMatching(/^auth_/),
    });
    expect(await authorize("5555555555554444")).toMatchObject({ outcome: "authorized" });
    expect(await authorize(TEST_CARDS.declined)).toEqual({ outcome: "declined", reason: "declined" });
    expect(await authorize(TEST_CARDS.insufficientFunds)).toEqual({
      outcome: "declined",
      reason: "insufficient_funds",
    });
    expect(await provider.authorize("tok_forged", USD(1), "k")).toEqual({
      outcome: "declined",
      reason: "declined",
    });
  });

  it("fails the transient card N times per idempotency key, then succeeds", async () => {
    const provider = new TestPaymentProvider({ transientFailures: 2 });
    const { token } = await provider.tokenize(card(TEST_CARDS.transient));
    await expect(provider.authorize(token, USD(100), "authorize:a")).rejects.toBeInstanceOf(
      ProviderUnavailableError,
    );
    await expect(provider.authorize(token, USD(100), "authorize:b")).rejects.toMatchObject({
      retryable: true,
    });
    await expect(provider.authorize(token, USD(100), "authorize:a")).rejects.toBeInstanceOf(
      ProviderUnavailableError,
    );
    expect(await provider.authorize(token, USD(100), "authorize:a")).toMatchObject({ outcome: "authorized" });
  });

  it("answers a repeated idempotency key with the same operation", async () => {
    const provider = new TestPaymentProvider();
    const { token } = await provider.tokenize(card(TEST_CARDS.succeeds));
    const first = await provider.authorize(token, USD(100), "authorize:o1");
    expect(await provider.authorize(token, USD(100), "authorize:o1")).toEqual(first);
    expect(await provider.authorize(token, USD(100), "authorize:o2")).not.toEqual(first);
    expect(await provider.capture("a", USD(100), "capture:o1")).toEqual(
      await provider.capture("a", USD(100), "capture:o1"),
    );
    expect((await provider.refund("c", USD(100), "refund:o1")).refundId).toMatch(/^ref_/);
    expect((await provider.void("a", "void:o1")).voidId).toMatch(/^void_/);
  });
});
