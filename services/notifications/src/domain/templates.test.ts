import { describe, expect, it } from "vitest";
import { formatMoney } from "./money.js";
import {
  describeReason,
  orderReference,
  renderOrderCancelled,
  renderOrderConfirmed,
  renderRefundIssued,
  renderWelcome,
} from "./templates.js";

const usd = (amount: number) => ({ amount, currency: "USD" });
const ORDER = "0f8fad5b-d9cb-469f-a165-70867728950e";

describe("formatMoney", () => {
  it("formats integer minor units without floating point", () => {
    expect(formatMoney(usd(1234))).toBe("$12.34");
    expect(formatMoney(usd(0))).toBe("$0.00");
    expect(formatMoney(usd(5))).toBe("$0.05");
    expect(formatMoney(usd(100))).toBe("$1.00");
    expect(formatMoney(usd(123456789))).toBe("$1,234,567.89");
    expect(formatMoney(usd(-250))).toBe("-$2.50");
    // 0.1 + 0.2 style errors cannot happen: the cents are never divided as floats.
    expect(formatMoney(usd(Number.MAX_SAFE_INTEGER))).toBe("$90,071,992,547,409.91");
  });

  it("writes an unknown currency after the number", () => {
    expect(formatMoney({ amount: 1999, currency: "EUR" })).toBe("19.99 EUR");
  });
});

describe("templates", () => {
  it("welcome greets by name", () => {
    const message = renderWelcome({ name: "Ann" });
    expect(message).toMatchObject({ template: "welcome", subject: "Welcome to Blossom" });
    expect(message.body).toMatch(/^Hello Ann,\n/);
    expect(message.short.length).toBeLessThanOrEqual(160);
  });

  it("order confirmed lists the lines and the total in dollars", () => {
    const message = renderOrderConfirmed({
      name: "Ann",
      orderId: ORDER,
      items: [
        { productId: "desk-oak", quantity: 2, unitPrice: usd(1234) },
        { productId: "lamp", quantity: 1, unitPrice: usd(999) },
      ],
      total: usd(3467),
    });
    expect(message.template).toBe("order-confirmed");
    expect(message.subject).toBe("Your order #0F8FAD5B is confirmed");
    expect(message.body).toContain("Hello Ann,");
    expect(message.body).toContain("2 × desk-oak at $12.34 = $24.68");
    expect(message.body).toContain("1 × lamp at $9.99 = $9.99");
    expect(message.body).toContain("Total: $34.67");
    expect(message.body).toContain(`Order id: ${ORDER}`);
    expect(message.short).toBe("Blossom: order #0F8FAD5B is confirmed ($34.67).");
  });

  it("greets without a name when the contact is unknown", () => {
    const message = renderOrderConfirmed({ orderId: ORDER, items: [], total: usd(0) });
    expect(message.body).toMatch(/^Hello,\n/);
  });

  it("order cancelled gives the reason, and announces the refund when the order was confirmed", () => {
    const paid = renderOrderCancelled({
      name: "Ann",
      orderId: ORDER,
      total: usd(1234),
      reason: "cancelled_by_customer",
      wasConfirmed: true,
    });
    expect(paid.template).toBe("order-cancelled");
    expect(paid.subject).toBe("Your order #0F8FAD5B was cancelled: refund issued");
    expect(paid.body).toContain("was cancelled because you cancelled it.");
    expect(paid.body).toContain("A refund of $12.34 has been issued");
    expect(paid.short).toContain("refund of $12.34 issued");

    const unpaid = renderOrderCancelled({
      orderId: ORDER,
      total: usd(1234),
      reason: "out_of_stock",
      wasConfirmed: false,
    });
    expect(unpaid.subject).toBe("Your order #0F8FAD5B was cancelled");
    expect(unpaid.body).toContain("because an item in it is out of stock.");
    expect(unpaid.body).toContain("You have not been charged.");
    expect(unpaid.body).not.toMatch(/refund/i);
  });

  it("describes every cancellation reason, and an unknown one gracefully", () => {
    expect(describeReason("payment_declined")).toBe("the payment was declined");
    expect(describeReason("timeout")).toBe("the checkout did not complete in time");
    expect(describeReason("a_new_reason")).toBe("of a problem with the order");
  });

  it("refund issued names the amount and the order", () => {
    const message = renderRefundIssued({ name: "Ann", orderId: ORDER, amount: usd(500) });
    expect(message).toMatchObject({
      template: "refund-issued",
      subject: "Refund issued for your order #0F8FAD5B",
    });
    expect(message.body).toContain("a refund of $5.00 for your order #0F8FAD5B");
  });

  it("is pure: the same input renders the same message", () => {
    const input = { name: "Bo", orderId: ORDER, amount: usd(42) };
    expect(renderRefundIssued(input)).toEqual(renderRefundIssued(input));
    expect(orderReference("abc")).toBe("#ABC");
  });
});
