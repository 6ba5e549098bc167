/**
 * The life of one payment (one per order):
 *
 *   pending ──► authorized ──► captured ──► refunded
 *      │             └───────► voided
 *      └───────► declined
 *
 * Every other move is refused, so a capture can never happen twice, nor a refund, nor a capture
 * after a void.
 */
export type PaymentStatus = "pending" | "authorized" | "captured" | "refunded" | "voided" | "declined";

export const PAYMENT_STATUSES: readonly PaymentStatus[] = [
  "pending",
  "authorized",
  "captured",
  "refunded",
  "voided",
  "declined",
];

export type DeclineReason =
  | "declined"
  | "insufficient_funds"
  | "unknown_payment_method"
  | "provider_unavailable";

const TRANSITIONS: Record<PaymentStatus, readonly PaymentStatus[]> = {
  pending: ["authorized", "declined"],
  authorized: ["captured", "voided"],
  captured: ["refunded"],
  refunded: [],
  voided: [],
  declined: [],
};

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: PaymentStatus,
    readonly to: PaymentStatus,
  ) {
    super(`a payment cannot go from ${from} to ${to}`);
    this.name = "IllegalTransitionError";
  }
}

export function canTransition(from: PaymentStatus, to: PaymentStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Returns `to`, or throws IllegalTransitionError. */
export function transition(from: PaymentStatus, to: PaymentStatus): PaymentStatus {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
  return to;
}

export function isFinal(status: PaymentStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/** What cancelling the order asks of a payment in `status`. */
export function compensationFor(status: PaymentStatus): "void" | "refund" | "none" {
  if (status === "authorized") return "void";
  if (status === "captured") return "refund";
  return "none";
}
