import { describe, expect, it } from "vitest";
import { detectBrand, isExpired, luhnValid, validateCard } from "./card.js";
import { isValidIdempotencyKey, requestFingerprint } from "./idempotency.js";
import {
  canTransition,
  compensationFor,
  IllegalTransitionError,
  PAYMENT_STATUSES,
  transition,
} from "./payment-state.js";

const NOW = new Date("2026-05-15T12:00:00Z");
const valid = { cardNumber: "4242424242424242", expMonth: 12, expYear: 2030, cvc: "123" };

describe("card checks", () => {
  it("checks the Luhn sum", () => {
    for (const number of [
      "4242424242424242",
      "4000000000000002",
      "4000000000009995",
      "4000000000000119",
      "378282246310005",
      "5555555555554444",
    ]) {
      expect(luhnValid(number), number).toBe(true);
    }
    expect(luhnValid("4242424242424241")).toBe(false);
    expect(luhnValid("42424242424242a2")).toBe(false);
    expect(luhnValid("")).toBe(false);
  });

  it("detects the brand from the prefix", () => {
    expect(detectBrand("4242424242424242")).toBe("visa");
    expect(detectBrand("5555555555554444")).toBe("mastercard");
    expect(detectBrand("2223003122003222")).toBe("mastercard");
    expect(detectBrand("378282246310005")).toBe("amex");
    expect(detectBrand("6011111111111117")).toBe("discover");
    expect(detectBrand("3056930009020004")).toBe("diners");
    expect(detectBrand("3566002020360505")).toBe("jcb");
    expect(detectBrand("6200000000000005")).toBe("unionpay");
    expect(detectBrand("1234567812345670")).toBe("unknown");
  });

  it("treats a card as valid through the end of its expiry month", () => {
    expect(isExpired(5, 2026, NOW)).toBe(false);
    expect(isExpired(4, 2026, NOW)).toBe(true);
    expect(isExpired(1, 2027, NOW)).toBe(false);
    expect(isExpired(12, 2025, NOW)).toBe(true);
  });

  it("accepts a good card and names each bad field", () => {
    expect(validateCard(valid, NOW)).toEqual([]);
    const fields = (card: Partial<typeof valid>) =>
      validateCard({ ...valid, ...card }, NOW).map((error) => error.field);
    expect(fields({ cardNumber: "4242 4242 4242 4242" })).toEqual(["cardNumber"]);
    expect(fields({ cardNumber: "4242-4242-4242-4242" })).toEqual(["cardNumber"]);
    expect(fields({ cardNumber: "4242424242424241" })).toEqual(["cardNumber"]);
    expect(fields({ cardNumber: "42424242" })).toEqual(["cardNumber"]);
    expect(fields({ expMonth: 13 })).toEqual(["expMonth"]);
    expect(fields({ expMonth: 0 })).toEqual(["expMonth"]);
    expect(fields({ expMonth: 4, expYear: 2026 })).toEqual(["expMonth"]);
    expect(fields({ expYear: 2025 })).toEqual(["expYear"]);
    expect(fields({ expYear: 26 })).toEqual(["expYear"]);
    expect(fields({ expYear: 2080 })).toEqual(["expYear"]);
    expect(fields({ cvc: "12" })).toEqual(["cvc"]);
    expect(fields({ cvc: "1234" })).toEqual(["cvc"]);
    expect(fields({ cvc: "12a" })).toEqual(["cvc"]);
    expect(
      validateCard({ cardNumber: "378282246310005", expMonth: 1, expYear: 2030, cvc: "1234" }, NOW),
    ).toEqual([]);
    expect(fields({ cardNumber: "x", expMonth: 0, cvc: "" })).toEqual(["cardNumber", "expMonth", "cvc"]);
  });

  it("never repeats the card number in a message", () => {
    const messages = validateCard({ ...valid, cardNumber: "4242424242424241", cvc: "99" }, NOW)
      .map((error) => error.message)
      .join(" ");
    expect(messages).not.toContain("4242");
    expect(messages).not.toContain("99");
  });
});

describe("idempotency fingerprints", () => {
  it("is keyed, stable, and leaves the cvc out", () => {
    const a = requestFingerprint("k".repeat(32), valid);
    expect(a).toBe(requestFingerprint("k".repeat(32), { ...valid, cvc: "999" }));
    expect(a).not.toBe(requestFingerprint("j".repeat(32), valid));
    expect(a).not.toBe(requestFingerprint("k".repeat(32), { ...valid, expYear: 2031 }));
    expect(a).not.toContain("4242");
  });

  it("accepts 1 to 255 visible ASCII characters as a key", () => {
    expect(isValidIdempotencyKey("a")).toBe(true);
    expect(isValidIdempotencyKey("3f1c-…")).toBe(false);
    expect(isValidIdempotencyKey("has space")).toBe(false);
    expect(isValidIdempotencyKey("x".repeat(256))).toBe(false);
  });
});

describe("payment state machine", () => {
  it("allows exactly pending → authorized → captured → refunded, authorized → voided, pending → declined", () => {
    const allowed = PAYMENT_STATUSES.flatMap((from) =>
      PAYMENT_STATUSES.filter((to) => canTransition(from, to)).map((to) => `${from}→${to}`),
    );
    expect(allowed.sort()).toEqual(
      [
        "authorized→captured",
        "authorized→voided",
        "captured→refunded",
        "pending→authorized",
        "pending→declined",
      ].sort(),
    );
    expect(() => transition("captured", "captured")).toThrow(IllegalTransitionError);
    expect(() => transition("refunded", "refunded")).toThrow(IllegalTransitionError);
    expect(() => transition("voided", "captured")).toThrow(IllegalTransitionError);
  });

  it("voids an authorization, refunds a capture, and leaves the rest", () => {
    expect(compensationFor("authorized")).toBe("void");
    expect(compensationFor("captured")).toBe("refund");
    for (const status of ["pending", "declined", "voided", "refunded"] as const)
      expect(compensationFor(status)).toBe("none");
  });
});
