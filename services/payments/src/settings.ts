import { type TProperties, Type } from "@sinclair/typebox";
import { DEFAULT_TRANSIENT_FAILURES } from "./providers/test-provider.js";

/** The environment variables of payments (validated by the launcher, handed over in `context.settings`). */
export const paymentsSettings: TProperties = {
  PAYMENTS_CARD_FINGERPRINT_KEY: Type.Optional(
    Type.String({
      minLength: 32,
      description:
        "secret key (32+ characters) of the HMAC that fingerprints Idempotency-Key requests for payment methods; required in production",
    }),
  ),
  PAYMENTS_TEST_CARD_TRANSIENT_FAILURES: Type.Integer({
    minimum: 0,
    maximum: 100,
    default: DEFAULT_TRANSIENT_FAILURES,
    description:
      "how many authorizations of the test card 4000000000000119 fail transiently per order before one succeeds",
  }),
};

/** Used outside production when no key is set; refused in production. Not a secret. */
export const DEVELOPMENT_FINGERPRINT_KEY = "blossom-development-card-fingerprint-key (not a secret)";

export function fingerprintKeyOf(settings: Readonly<Record<string, unknown>>): string {
  const key = settings.PAYMENTS_CARD_FINGERPRINT_KEY;
  return typeof key === "string" && key.length > 0 ? key : DEVELOPMENT_FINGERPRINT_KEY;
}

export function transientFailuresOf(settings: Readonly<Record<string, unknown>>): number {
  const value = settings.PAYMENTS_TEST_CARD_TRANSIENT_FAILURES;
  return typeof value === "number" ? value : DEFAULT_TRANSIENT_FAILURES;
}

export function checkPaymentsProduction(settings: Record<string, unknown>): string[] {
  if (fingerprintKeyOf(settings) === DEVELOPMENT_FINGERPRINT_KEY) {
    return [
      "PAYMENTS_CARD_FINGERPRINT_KEY is unset: production needs its own secret key (32+ characters), or card fingerprints could be reversed",
    ];
  }
  return [];
}
