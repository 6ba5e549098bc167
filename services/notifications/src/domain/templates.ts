import { formatMoney, type Money } from "./money.js";

/** The templates notifications renders; the name is stored with every notification. */
export type TemplateName = "welcome" | "order-confirmed" | "order-cancelled" | "refund-issued";

/**
 * A rendered message: `subject` and `body` (plain text) for email, `short` (one line) for sms
 * and push. Every template is a pure function: the same input always gives the same message.
 */
export interface RenderedMessage {
  readonly template: TemplateName;
  readonly subject: string;
  readonly body: string;
  readonly short: string;
}

export interface OrderLineInput {
  readonly productId: string;
  readonly quantity: number;
  readonly unitPrice: Money;
}

const SIGNATURE = "\n— The Blossom team\n";

/** How an order is named to people: `#` and the first 8 characters of its id. */
export function orderReference(orderId: string): string {
  return `#${orderId.slice(0, 8).toUpperCase()}`;
}

function greeting(name: string | undefined): string {
  const trimmed = name?.trim();
  return trimmed ? `Hello ${trimmed},` : "Hello,";
}

export function renderWelcome(input: { name: string }): RenderedMessage {
  return {
    template: "welcome",
    subject: "Welcome to Blossom",
    body: `${greeting(input.name)}\n\nyour Blossom account is ready. Happy shopping!\n${SIGNATURE}`,
    short: "Welcome to Blossom: your account is ready.",
  };
}

export function renderOrderConfirmed(input: {
  name?: string | undefined;
  orderId: string;
  items: readonly OrderLineInput[];
  total: Money;
}): RenderedMessage {
  const reference = orderReference(input.orderId);
  const lines = input.items.map(
    (item) =>
      `  ${item.quantity} × ${item.productId} at ${formatMoney(item.unitPrice)} = ${formatMoney({
        amount: item.unitPrice.amount * item.quantity,
        currency: item.unitPrice.currency,
      })}`,
  );
  return {
    template: "order-confirmed",
    subject: `Your order ${reference} is confirmed`,
    body: [
      greeting(input.name),
      "",
      `your order ${reference} is confirmed and your payment of ${formatMoney(input.total)} was taken.`,
      "",
      ...lines,
      "",
      `Total: ${formatMoney(input.total)}`,
      `Order id: ${input.orderId}`,
      SIGNATURE,
    ].join("\n"),
    short: `Blossom: order ${reference} is confirmed (${formatMoney(input.total)}).`,
  };
}

/** Why an order was cancelled, as the orders service says it. */
export type CancellationReason = "out_of_stock" | "payment_declined" | "timeout" | "cancelled_by_customer";

const REASONS: Record<CancellationReason, string> = {
  out_of_stock: "an item in it is out of stock",
  payment_declined: "the payment was declined",
  timeout: "the checkout did not complete in time",
  cancelled_by_customer: "you cancelled it",
};

/** The reason in words; an unknown reason (a newer orders service) still reads well. */
export function describeReason(reason: string): string {
  return REASONS[reason as CancellationReason] ?? "of a problem with the order";
}

export function renderOrderCancelled(input: {
  name?: string | undefined;
  orderId: string;
  total: Money;
  reason: string;
  wasConfirmed: boolean;
}): RenderedMessage {
  const reference = orderReference(input.orderId);
  const money = formatMoney(input.total);
  const settlement = input.wasConfirmed
    ? `A refund of ${money} has been issued to your payment method; it may take a few days to appear.`
    : "You have not been charged.";
  return {
    template: "order-cancelled",
    subject: input.wasConfirmed
      ? `Your order ${reference} was cancelled: refund issued`
      : `Your order ${reference} was cancelled`,
    body: [
      greeting(input.name),
      "",
      `your order ${reference} was cancelled because ${describeReason(input.reason)}.`,
      settlement,
      "",
      `Order id: ${input.orderId}`,
      SIGNATURE,
    ].join("\n"),
    short: input.wasConfirmed
      ? `Blossom: order ${reference} was cancelled; refund of ${money} issued.`
      : `Blossom: order ${reference} was cancelled; you have not been charged.`,
  };
}

export function renderRefundIssued(input: {
  name?: string | undefined;
  orderId: string;
  amount: Money;
}): RenderedMessage {
  const reference = orderReference(input.orderId);
  const money = formatMoney(input.amount);
  return {
    template: "refund-issued",
    subject: `Refund issued for your order ${reference}`,
    body: [
      greeting(input.name),
      "",
      `a refund of ${money} for your order ${reference} has been issued to your payment method;`,
      "it may take a few days to appear.",
      "",
      `Order id: ${input.orderId}`,
      SIGNATURE,
    ].join("\n"),
    short: `Blossom: refund of ${money} issued for order ${reference}.`,
  };
}
