/**
 * The provider port: what payments needs from a card processor. The built-in test provider
 * (`src/providers/test-provider.ts`) implements it; a real processor plugs in by implementing it
 * too. Card data enters only through `tokenize`; everything after works on the opaque token.
 *
 * Idempotency: every money-moving call takes an idempotency key (payments derives it from the
 * order id and the operation, e.g. `authorize:<orderId>`). A provider must answer a repeated key
 * with the first call's result and move no money again: that is what makes a redelivered event
 * or a retry after a crash safe.
 *
 * Failures: a provider answers a refusal (declined card) as a result, never as an error. It
 * throws `ProviderUnavailableError` when the call may succeed later (timeout, 5xx, rate limit);
 * payments then retries through the bus's redelivery with backoff.
 */

export interface ProviderMoney {
  /** Integer minor units (cents). */
  amount: number;
  currency: "USD";
}

/** Card data for tokenization; in memory for one request only. */
export interface CardDetails {
  number: string;
  expMonth: number;
  expYear: number;
  cvc: string;
}

export interface TokenizedCard {
  /** Opaque reference to the card in the provider's vault; what payments stores. */
  token: string;
}

export type AuthorizeResult =
  | { outcome: "authorized"; authorizationId: string }
  | { outcome: "declined"; reason: "declined" | "insufficient_funds" };

export interface CaptureResult {
  captureId: string;
}

export interface RefundResult {
  refundId: string;
}

export interface VoidResult {
  voidId: string;
}

export interface PaymentProvider {
  /** Stored with each payment method and payment ("test" for the built-in one). */
  readonly name: string;
  tokenize(card: CardDetails): Promise<TokenizedCard>;
  /** Holds `amount` on the card. */
  authorize(token: string, amount: ProviderMoney, idempotencyKey: string): Promise<AuthorizeResult>;
  /** Takes an authorized amount. */
  capture(authorizationId: string, amount: ProviderMoney, idempotencyKey: string): Promise<CaptureResult>;
  /** Gives a captured amount back. */
  refund(captureId: string, amount: ProviderMoney, idempotencyKey: string): Promise<RefundResult>;
  /** Releases an authorization that was not captured. */
  void(authorizationId: string, idempotencyKey: string): Promise<VoidResult>;
}

/** The provider could not answer now; the same call may succeed later. */
export class ProviderUnavailableError extends Error {
  readonly code = "PROVIDER_UNAVAILABLE";
  readonly retryable = true;
  constructor(message: string) {
    super(message);
    this.name = "ProviderUnavailableError";
  }
}

/** The provider's idempotency key of an operation on an order's payment. */
export function providerKey(operation: "authorize" | "capture" | "refund" | "void", orderId: string): string {
  return `${operation}:${orderId}`;
}
