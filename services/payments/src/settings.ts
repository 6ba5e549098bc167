import type { Settings } from "@blossom/host";
import { Type } from "@sinclair/typebox";
import { DEFAULT_TRANSIENT_FAILURES } from "./providers/test-provider.js";

/** The environment variables of payments (resolved before it starts, handed over in `context.settings`). */
export const paymentsSettings = {
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

export type PaymentsSettingsSchema = typeof paymentsSettings;
export type PaymentsSettings = Settings<PaymentsSettingsSchema>;

/** The key that fingerprints payment-method requests: the configured one, else the development one. */
export function fingerprintKeyOf(settings: PaymentsSettings): string {
  return settings.PAYMENTS_CARD_FINGERPRINT_KEY ?? DEVELOPMENT_FINGERPRINT_KEY;
}

export function checkPaymentsProduction(settings: PaymentsSettings): string[] {
  if (fingerprintKeyOf(settings) === DEVELOPMENT_FINGERPRINT_KEY) {
    return [
      "PAYMENTS_CARD_FINGERPRINT_KEY is unset: production needs its own secret key (32+ characters), or card fingerprints could be reversed",
    ];
  }
  return [];
}
