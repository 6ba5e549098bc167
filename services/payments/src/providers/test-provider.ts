import { createHash, randomBytes } from "node:crypto";
import {
  type AuthorizeResult,
  type CaptureResult,
  type CardDetails,
  type PaymentProvider,
  type ProviderMoney,
  ProviderUnavailableError,
  type RefundResult,
  type TokenizedCard,
  type VoidResult,
} from "../domain/payment-provider.js";

/** The magic numbers of the test provider (any other valid number is approved). */
export const TEST_CARDS = {
  succeeds: "4242424242424242",
  declined: "4000000000000002",
  insufficientFunds: "4000000000009995",
  /** Fails transiently for the first `transientFailures` authorizations of an order, then succeeds. */
  transient: "4000000000000119",
} as const;

type Behaviour = "approve" | "decline" | "nofunds" | "transient";

const BEHAVIOUR_OF: Record<string, Behaviour> = {
  [TEST_CARDS.declined]: "decline",
  [TEST_CARDS.insufficientFunds]: "nofunds",
  [TEST_CARDS.transient]: "transient",
};

const TOKEN = /^tok_(approve|decline|nofunds|transient)_[0-9a-f]{24}$/;

export interface TestProviderOptions {
  /** How many times an authorization of the transient card fails before it succeeds (per idempotency key). Default 2. */
  transientFailures?: number;
}

export const DEFAULT_TRANSIENT_FAILURES = 2;

/**
 * The built-in provider: moves no money, behaves like a real processor's test mode.
 *
 * Its vault is the token itself: `tok_<behaviour>_<random>` names the behaviour class of the
 * test card (approve, decline, nofunds, transient), never any digit of the number, so the
 * provider is stateless and survives restarts and replicas. Operation ids derive from the
 * idempotency key, so a repeated call answers the same id, as a real provider's idempotency does.
 * The transient card's failure count is kept in memory per idempotency key (a restart starts it
 * again: this only makes the card fail a little longer).
 */
export class TestPaymentProvider implements PaymentProvider {
  readonly name = "test";
  readonly #transientFailures: number;
  readonly #failures = new Map<string, number>();

  constructor(options: TestProviderOptions = {}) {
    this.#transientFailures = options.transientFailures ?? DEFAULT_TRANSIENT_FAILURES;
  }

  async tokenize(card: CardDetails): Promise<TokenizedCard> {
    const behaviour = BEHAVIOUR_OF[card.number] ?? "approve";
    return { token: `tok_${behaviour}_${randomBytes(12).toString("hex")}` };
  }

  async authorize(token: string, _amount: ProviderMoney, idempotencyKey: string): Promise<AuthorizeResult> {
    const behaviour = TOKEN.exec(token)?.[1] as Behaviour | undefined;
    switch (behaviour) {
      case undefined:
      case "decline":
        return { outcome: "declined", reason: "declined" };
      case "nofunds":
        return { outcome: "declined", reason: "insufficient_funds" };
      case "transient": {
        const failed = this.#failures.get(idempotencyKey) ?? 0;
        if (failed < this.#transientFailures) {
          this.#failures.set(idempotencyKey, failed + 1);
          throw new ProviderUnavailableError(
            `test provider: temporarily unavailable (failure ${failed + 1} of ${this.#transientFailures})`,
          );
        }
        this.#failures.delete(idempotencyKey);
        return { outcome: "authorized", authorizationId: operationId("auth", idempotencyKey) };
      }
      case "approve":
        return { outcome: "authorized", authorizationId: operationId("auth", idempotencyKey) };
    }
  }

  async capture(
    _authorizationId: string,
    _amount: ProviderMoney,
    idempotencyKey: string,
  ): Promise<CaptureResult> {
    return { captureId: operationId("cap", idempotencyKey) };
  }

  async refund(_captureId: string, _amount: ProviderMoney, idempotencyKey: string): Promise<RefundResult> {
    return { refundId: operationId("ref", idempotencyKey) };
  }

  async void(_authorizationId: string, idempotencyKey: string): Promise<VoidResult> {
    return { voidId: operationId("void", idempotencyKey) };
  }
}

/** The same key always names the same operation: the provider's idempotency. */
function operationId(prefix: string, idempotencyKey: string): string {
  return `${prefix}_${createHash("sha256").update(idempotencyKey).digest("hex").slice(0, 24)}`;
}
