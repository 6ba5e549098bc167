import type { SubscribeOptions } from "@blossom/bus";
import type { ServiceContext, ServiceDefinition } from "@blossom/host";
import { paymentsRoutes } from "./api/routes.js";
import type { PaymentProvider } from "./domain/payment-provider.js";
import { paymentsEvents } from "./events/contracts.js";
import { paymentsHandlers } from "./events/handlers.js";
import { TestPaymentProvider } from "./providers/test-provider.js";
import {
  checkPaymentsProduction,
  fingerprintKeyOf,
  type PaymentsSettingsSchema,
  paymentsSettings,
} from "./settings.js";
import { paymentsMigrations } from "./store/migrations.js";
import type { PaymentsTables } from "./store/tables.js";

export interface PaymentsServiceOptions {
  /**
   * Makes the card provider of one running service. Default: the built-in test provider,
   * configured from the service's settings. A real processor plugs in here.
   */
  provider?: (context: PaymentsContext) => PaymentProvider;
  /** The bus consumer's options (the host tells handlers which attempt is the last from `maxDeliver`). */
  consumerOptions?: SubscribeOptions;
  /** The clock (tests). */
  now?: () => Date;
}

type PaymentsContext = ServiceContext<PaymentsTables, PaymentsSettingsSchema>;

function testProvider(context: PaymentsContext): PaymentProvider {
  return new TestPaymentProvider({
    transientFailures: context.settings.PAYMENTS_TEST_CARD_TRANSIENT_FAILURES,
  });
}

export function createPaymentsService(
  options: PaymentsServiceOptions = {},
): ServiceDefinition<PaymentsTables, PaymentsSettingsSchema> {
  // One provider per running service (a process may host several, e.g. in tests).
  const providers = new WeakMap<PaymentsContext, PaymentProvider>();
  const providerOf = (context: PaymentsContext): PaymentProvider => {
    let provider = providers.get(context);
    if (!provider) {
      provider = (options.provider ?? testProvider)(context);
      providers.set(context, provider);
    }
    return provider;
  };
  return {
    name: "payments",
    description: "Payment methods; authorize, capture, void and refund for the checkout saga.",
    audited: true,
    migrations: paymentsMigrations,
    publishes: paymentsEvents,
    consumes: paymentsHandlers({
      providerOf,
      ...(options.now ? { now: options.now } : {}),
    }),
    ...(options.consumerOptions ? { consumerOptions: options.consumerOptions } : {}),
    settings: paymentsSettings,
    checkProduction: checkPaymentsProduction,
    routes(app, context) {
      paymentsRoutes(app, context, {
        provider: providerOf(context),
        fingerprintKey: fingerprintKeyOf(context.settings),
        ...(options.now ? { now: options.now } : {}),
      });
    },
  };
}

export const paymentsService: ServiceDefinition<PaymentsTables, PaymentsSettingsSchema> =
  createPaymentsService();
